/** Durations as Flux writes them (`1m30s`, `500ms`, `2h`) and deadlines. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go-style duration; throws naming `field` when it is not one. */
export function parseDuration(text: string, field = "duration"): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of text.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * unitMs[m[2]!]!;
    consumed += m[0].length;
  }
  if (text === "" || consumed !== text.length) throw new Error(`${field}: '${text}' is not a duration like 30s, 5m or 1h30m`);
  return total;
}

export const deadlineAfter = (ms: number) => Date.now() + ms;
