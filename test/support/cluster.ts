// One embedded cluster per test run, started on first use and always torn down by the root
// hook (hooks.ts), on failure and on SIGINT/SIGTERM too. A run killed with SIGKILL leaves a
// state file; the next run finds it and stops those processes first.
import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import * as devCluster from "../../cli/dev-cluster";

const RUNS_DIR = path.join(os.tmpdir(), "gitops-test-clusters");

export interface TestCluster {
  state: devCluster.ClusterState;
  kubeconfigPath: string;
  kc: k8s.KubeConfig;
}

let started: Promise<TestCluster> | undefined;

/** Stops clusters of earlier runs whose owner process is gone (a SIGKILLed mocha). */
export async function reapStaleRuns(): Promise<void> {
  if (!fs.existsSync(RUNS_DIR)) return;
  for (const entry of fs.readdirSync(RUNS_DIR)) {
    const dir = path.join(RUNS_DIR, entry);
    const state = devCluster.readState(dir);
    if (!state || !devCluster.alive(state.ownerPid)) await devCluster.down(dir);
  }
}

export const realNodeStage = (): boolean => process.env.GITOPS_TEST_REAL_NODE === "1";

export function getCluster(): Promise<TestCluster> {
  started ??= (async () => {
    await reapStaleRuns();
    const dir = path.join(RUNS_DIR, `run-${process.pid}`);
    const t0 = Date.now();
    // The real-node stage (scripts/test.sh, test/real-node/) runs its pods on a real kubelet + containerd node.
    // With GITOPS_FIELD_COVERAGE_DIR (scripts/test.sh) the API server logs which spec fields the tests set.
    const coverage = process.env.GITOPS_FIELD_COVERAGE_DIR;
    const auditLog = coverage ? path.join(coverage, `audit-${process.pid}.log`) : undefined;
    const state = await devCluster.up({ dir, contextName: "gitops-test", realNode: realNodeStage(), auditLog });
    if (process.env.GITOPS_TEST_VERBOSE) console.error(`[test] cluster up in ${Date.now() - t0} ms at ${state.server}`);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(state.kubeconfig);
    return { state, kubeconfigPath: state.kubeconfig, kc };
  })();
  return started;
}

export async function stopCluster(): Promise<void> {
  if (!started) return;
  const c = await started.catch(() => undefined);
  started = undefined;
  if (c) await devCluster.down(c.state.dir);
}

export function randomSuffix(n = 5): string {
  return randomBytes(8).toString("hex").slice(0, n);
}

/** A fresh namespace for one test; deleted (without waiting) by `cleanupNamespaces`. */
const namespaces = new Set<string>();
export async function newNamespace(prefix = "t"): Promise<string> {
  const { kc } = await getCluster();
  const name = `${prefix}-${randomSuffix()}`;
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name } } });
  namespaces.add(name);
  return name;
}

export async function cleanupNamespaces(): Promise<void> {
  if (!started || namespaces.size === 0) return;
  const { kc } = await getCluster();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await Promise.all([...namespaces].map((name) => core.deleteNamespace({ name }).catch(() => undefined)));
  namespaces.clear();
}

/** Polls `check` until it returns a truthy value or throws after `timeoutMs` with the last error. */
export async function eventually<T>(check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20000);
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
      last = undefined;
    } catch (e) { last = e; }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out after ${opts.timeoutMs ?? 20000} ms waiting for ${opts.what ?? "condition"}${why}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}
