// Runs async work over a list with at most `limit` calls in flight, keeping result order.
// The first failure stops new calls from starting and is rethrown after in-flight ones end;
// with `settle` every item runs and all failures are returned instead.

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i], i);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failure) throw failure.error;
  return out;
}

export type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

export async function mapLimitSettled<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<Settled<R>[]> {
  return mapLimit(items, limit, async (item, i): Promise<Settled<R>> => {
    try {
      return { ok: true, value: await fn(item, i) };
    } catch (error) {
      return { ok: false, error };
    }
  });
}
