// A registry of things tests start (servers, controllers) so the root hook can stop them all.
type Stopper = () => Promise<void> | void;
const stoppers = new Set<Stopper>();

export function onTeardown(stop: Stopper): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Stops everything registered, newest first; one stuck stopper cannot hold up the rest. */
export async function teardownAll(perStopperMs = 20000): Promise<void> {
  const all = [...stoppers].reverse();
  stoppers.clear();
  for (const s of all) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(() => { console.error(`[test] teardown: a stopper took over ${perStopperMs} ms; moving on`); resolve(); }, perStopperMs); });
    try { await Promise.race([Promise.resolve().then(s), timeout]); } catch (e) { console.error(`[test] teardown: ${(e as Error).message}`); } finally { clearTimeout(timer); }
  }
}
