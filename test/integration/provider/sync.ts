/**
 * Whether bootstrap tests wait for the sync to be Ready at the pushed revision: yes when our
 * source- and kustomize-controllers exist (started per test as local processes), else the tests
 * check git and the cluster objects only (`wait: false`).
 */
import { hasControllers, startControllers, type RunningControllers } from "./controllers";

export const canSync = (): boolean => hasControllers("source", "kustomize");

/** Bootstrap args for the wait: a timeout when the controllers exist, else `{ wait: false }`. */
export function waitForSync(): { wait?: boolean; timeout?: string } {
  return canSync() ? { timeout: "90s" } : { wait: false };
}

/**
 * mocha hooks that run the controllers around each test of a suite (when they exist):
 * `withControllers()` inside a describe.
 */
export function withControllers(): { current(): RunningControllers | undefined; restart(): Promise<void> } {
  let running: RunningControllers | undefined;
  beforeEach(async function () {
    this.timeout(60_000);
    if (canSync()) running = await startControllers();
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
