// Our controllers, started in-process against the test cluster: CRDs installed once, then a
// Manager per test suite (metrics/health on free ports, storage in a temp dir), stopped by the
// root hook even when a test fails.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { allCrds } from "../../controllers/api/registry";
import { KubeClient } from "../../controllers/runtime/kube";
import { Manager } from "../../controllers/runtime/manager";
import { createLogger } from "../../controllers/runtime/logger";
import { SourceController, startSourceController } from "../../controllers/source/setup";
import { getCluster, eventually, randomSuffix } from "./cluster";
import { onTeardown } from "./teardown";

const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition" };
let crdsInstalled: Promise<void> | undefined;

/** Applies every CRD we define (server-side apply) and waits until they are Established. */
export function installCrds(): Promise<void> {
  crdsInstalled ??= (async () => {
    const { kc } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc, { qps: 100, burst: 200 });
    const crds = allCrds() as Array<{ metadata: { name: string } }>;
    for (const crd of crds) await client.apply(crdRes, crd as never, { fieldManager: "gitops-test", force: true });
    for (const crd of crds) {
      await eventually(async () => {
        const got = await client.get<{ status?: { conditions?: Array<{ type: string; status: string }> } } & { metadata: object }>(crdRes, { namespace: "", name: crd.metadata.name });
        return got?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      }, { what: `CRD ${crd.metadata.name} Established` });
    }
  })();
  return crdsInstalled;
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

/** Starts the source controller (and whatever `extra` adds) in this process. */
export async function startControllers(opts: { concurrent?: number; storageDir?: string } = {}): Promise<RunningControllers> {
  await installCrds();
  const { kc } = await getCluster();
  const storageDir = opts.storageDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "gitops-storage-"));
  const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
  const instance = `source-${randomSuffix(8)}`;
  const logger = createLogger({ level: process.env.GITOPS_TEST_LOG_LEVEL ?? "silent" });
  const manager = new Manager({
    name: "gitops-test-controllers", kubeConfig: kc, logger, handleSignals: false,
    flags: { metricsAddr: "127.0.0.1:0", healthAddr: "127.0.0.1:0", concurrent: opts.concurrent ?? 4, kubeApiQps: 200, kubeApiBurst: 400,
      watchLabelSelector: `${INSTANCE_LABEL}=${instance}`, gracefulShutdownTimeoutMs: 5000 },
  });
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
