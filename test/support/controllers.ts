// Our controllers, started in-process against the test cluster: CRDs installed once, then a
// Manager per test suite (metrics/health on free ports, storage in a temp dir), stopped by the
// root hook even when a test fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allCrds } from "../../controllers/api/registry";
import { KubeClient } from "../../controllers/runtime/kube";
import { Manager } from "../../controllers/runtime/manager";
import { RuntimeFlags } from "../../controllers/runtime/flags";
import type { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "../../controllers/runtime/logger";
import { SourceController, startSourceController } from "../../controllers/source/setup";
import { getCluster, eventually, randomSuffix } from "./cluster";
import { onTeardown } from "./teardown";

const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition" };
type LiveCrd = { metadata: { name: string; deletionTimestamp?: string }; status?: { conditions?: Array<{ type: string; status: string }> } };
let installing: Promise<void> | undefined;

/**
 * Makes sure every CRD we define exists and is Established: one list when they do; otherwise
 * waits out any still being deleted (a bootstrap destroy in an earlier suite deletes them),
 * applies them (server-side apply) and waits until they are Established.
 */
export function installCrds(): Promise<void> {
  installing ??= ensureCrds().finally(() => (installing = undefined));
  return installing;
}

async function ensureCrds(): Promise<void> {
  const { kc } = await getCluster();
  const client = KubeClient.fromKubeConfig(kc, { qps: 100, burst: 200 });
  const crds = allCrds() as Array<{ metadata: { name: string } }>;
  const liveByName = async () => new Map((await client.list<LiveCrd>(crdRes)).items.map((c) => [c.metadata.name, c]));
  const established = (c?: LiveCrd) => !!c && !c.metadata.deletionTimestamp && !!c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True");
  const live = await liveByName();
  if (crds.every((c) => established(live.get(c.metadata.name)))) return;
  await eventually(async () => [...(await liveByName()).values()].every((c) => !c.metadata.deletionTimestamp || !crds.some((d) => d.metadata.name === c.metadata.name)),
    { timeoutMs: 60_000, what: "CRDs being deleted by an earlier test to be gone" });
  for (const crd of crds) await client.apply(crdRes, crd as never, { fieldManager: "gitops-test", force: true });
  await eventually(async () => {
    const now = await liveByName();
    return crds.every((c) => established(now.get(c.metadata.name)));
  }, { timeoutMs: 60_000, what: "our CRDs Established" });
}

/** Label that scopes objects to one set of test controllers (other suites' controllers skip them). */
export const INSTANCE_LABEL = "gitops-test/instance";

export interface RunningControllers {
  manager: Manager;
  /** Put these labels on objects meant for these controllers. */
  labels: Record<string, string>;
  client: KubeClient;
  source?: SourceController;
  storageDir: string;
  stop(): Promise<void>;
}

/**
 * A Manager with the flags every test uses: ports on 127.0.0.1:0, no signal handling, a fast
 * graceful shutdown, generous client limits, and a watch limited to objects labelled for `instance`.
 */
export function testManager(kc: KubeConfig, name: string, instance: string, flags: Partial<RuntimeFlags> = {}): Manager {
  return new Manager({
    name, kubeConfig: kc, handleSignals: false,
    logger: createLogger({ level: process.env.GITOPS_TEST_LOG_LEVEL ?? "silent" }),
    flags: { metricsAddr: "127.0.0.1:0", healthAddr: "127.0.0.1:0", concurrent: 4, kubeApiQps: 200, kubeApiBurst: 400,
      watchLabelSelector: `${INSTANCE_LABEL}=${instance}`, gracefulShutdownTimeoutMs: 5000, ...flags },
  });
}

/** Starts the source controller in this process, watching only objects with `labels`. */
export async function startControllers(opts: { concurrent?: number; storageDir?: string } = {}): Promise<RunningControllers> {
  await installCrds();
  const { kc } = await getCluster();
  const storageDir = opts.storageDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "gitops-storage-"));
  const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
  const instance = `source-${randomSuffix(8)}`;
  const manager = testManager(kc, "gitops-test-controllers", instance, { concurrent: opts.concurrent ?? 4 });
  for (const d of source.definitions) manager.add(d);
  await manager.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await manager.stop();
    await source.close();
    if (!opts.storageDir) fs.rmSync(storageDir, { recursive: true, force: true });
  };
  onTeardown(stop);
  return { manager, client: manager.client, labels: { [INSTANCE_LABEL]: instance }, source, storageDir, stop };
}
