// Mocha root hooks (loaded with --require): whatever happens, the cluster and the servers a
// test started are stopped when the run ends.
import { cleanupNamespaces, stopCluster } from "./cluster";
import { teardownAll } from "./teardown";

let stopping = false;
async function stopEverything(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await teardownAll();
  await stopCluster();
}

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    console.error(`\n[test] ${sig}: stopping the test cluster and servers`);
    stopEverything().finally(() => process.exit(130));
  });
}

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(300000);
    await cleanupNamespaces().catch(() => undefined);
    await stopEverything();
  },
};
