// A registry of things tests start (servers, controllers) so the root hook can stop them all.
type Stopper = () => Promise<void> | void;
const stoppers = new Set<Stopper>();

export function onTeardown(stop: Stopper): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

export async function teardownAll(): Promise<void> {
  const all = [...stoppers].reverse();
  stoppers.clear();
  for (const s of all) {
    try { await s(); } catch (e) { console.error(`[test] teardown: ${(e as Error).message}`); }
  }
}
