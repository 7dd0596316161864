// Module-level registry of live git fixtures/servers, so a mocha root hook (or the process
// exit handler) can stop everything even when a test failed before its own cleanup ran.
// Each resource is also registered with the shared teardown registry (./teardown), so the
// repo's root hook (hooks.ts -> teardownAll) stops git servers too.
import { onTeardown } from "./teardown";

/** Something that owns processes, sockets or temp dirs. */
export interface GitTestResource {
  /** Graceful shutdown: stop servers and remove the temp dir. */
  close(): Promise<void>;
  /** Last-resort synchronous cleanup used from process 'exit'. */
  killSync(): void;
}

const live = new Map<GitTestResource, () => void>();

/** Remember a resource until it is closed. */
export function trackResource(resource: GitTestResource): void {
  if (!live.has(resource)) live.set(resource, onTeardown(() => resource.close()));
}

/** Forget a resource (called by its own close()). */
export function untrackResource(resource: GitTestResource): void {
  live.get(resource)?.();
  live.delete(resource);
}

/** Number of fixtures/servers that are still open. */
export function liveGitResourceCount(): number {
  return live.size;
}

/** Close every fixture and server still open; errors are collected, not thrown. */
export async function stopAllGitServers(): Promise<void> {
  const errors: unknown[] = [];
  for (const resource of [...live.keys()].reverse()) {
    try {
      await resource.close();
    } catch (err) {
      errors.push(err);
      resource.killSync();
    }
    untrackResource(resource);
  }
  if (errors.length > 0) console.warn(`stopAllGitServers: ${errors.length} cleanup error(s)`, errors[0]);
}

process.once("exit", () => {
  for (const resource of live.keys()) {
    try {
      resource.killSync();
    } catch {
      /* exiting anyway */
    }
  }
});
