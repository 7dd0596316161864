/**
 * Whether bootstrap tests wait for the sync to be Ready at the pushed revision: yes when our
 * source- and kustomize-controllers exist (started per test as local processes), else the tests
 * check git and the cluster objects only (`wait: false`).
 */
import { getCluster } from "../../support/cluster";
import { INSTANCE_LABEL } from "../../support/controllers";
import { Cluster } from "../../../provider/cluster/client";
import { releaseFluxObjects } from "../../../provider/cluster/uninstall";
import { hasControllers, startControllers, type RunningControllers } from "./controllers";

export const canSync = (): boolean => hasControllers("source", "kustomize");

/** Bootstrap args for the wait: a timeout when the controllers exist, else `{ wait: false }`. */
export function waitForSync(): { wait?: boolean; timeout?: string } {
  return canSync() ? { timeout: "90s" } : { wait: false };
}

/**
 * Makes what earlier tests left in the cluster inert: their Kustomizations and HelmReleases
 * suspended and every Flux object without finalizers (what an uninstall does), so the fresh
 * controllers of the next test neither re-apply them nor, when a later destroy deletes the
 * shared CRDs, prune what they applied. Objects of the in-process controllers' suites (labelled)
 * are theirs and left alone.
 */
export async function quietLeftovers(): Promise<void> {
  const cluster = new Cluster({ kubeconfig: (await getCluster()).kubeconfigPath });
  try {
    await releaseFluxObjects(cluster, { labelSelector: `!${INSTANCE_LABEL}` });
  } finally {
    cluster.close();
  }
}

/**
 * mocha hooks that run the controllers around each test of a suite (when they exist), after
 * quieting what earlier tests left: `withControllers()` inside a describe.
 */
export function withControllers(): { current(): RunningControllers | undefined; restart(): Promise<void> } {
  let running: RunningControllers | undefined;
  beforeEach(async function () {
    this.timeout(60_000);
    if (!canSync()) return;
    await quietLeftovers();
    running = await startControllers();
  });
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });
  return {
    current: () => running,
    async restart() {
      await running?.stop();
      running = canSync() ? await startControllers() : undefined;
    },
  };
}
