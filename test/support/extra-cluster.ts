// A second embedded cluster (etcd, kube-apiserver, controller-manager, scheduler and a kwok
// node, as the shared one) owned by one test: the "remote" cluster of a kubeConfig
// Kustomization, a cluster whose API server a test restarts (restartApiServer), another cluster
// to bootstrap, or one that disappears under a stack. It lives under the directory the root hook
// reaps, so a SIGKILLed run's cluster is stopped by the next run.
import * as k8s from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as devCluster from "../../cli/dev-cluster";
import { allCrds } from "../../controllers/api/registry";
import { KubeClient } from "../../controllers/runtime/kube";
import { KubeObject } from "../../controllers/runtime/keys";
import { eventually, randomSuffix } from "./cluster";
import { onTeardown } from "./teardown";

export interface ExtraCluster {
  state: devCluster.ClusterState;
  kc: k8s.KubeConfig;
  client: KubeClient;
  /** The admin kubeconfig, as text (for a kubeConfig Secret). */
  kubeconfig: string;
  /** Stops the cluster and removes its data; also done at teardown, and safe to call twice. */
  stop(): Promise<void>;
}

export async function startExtraCluster(contextName: string): Promise<ExtraCluster> {
  const dir = path.join(os.tmpdir(), "gitops-test-clusters", `${contextName}-${process.pid}-${randomSuffix()}`);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await devCluster.down(dir);
  };
  onTeardown(stop);
  const state = await devCluster.up({ dir, contextName });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  return { state, kc, client: KubeClient.fromKubeConfig(kc, { qps: 100, burst: 200 }), kubeconfig: fs.readFileSync(state.kubeconfig, "utf8"), stop };
}

const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition" };

/** Applies our CRDs to the cluster and waits until they are Established. */
export async function installCrdsOn(cluster: ExtraCluster): Promise<void> {
  const crds = allCrds() as Array<{ metadata: { name: string } }>;
  for (const crd of crds) await cluster.client.apply(crdRes, crd as never, { fieldManager: "gitops-test", force: true });
  await eventually(async () => {
    const live = (await cluster.client.list<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>(crdRes)).items;
    return crds.every((c) => live.some((l) => l.metadata?.name === c.metadata.name && l.status?.conditions?.some((x) => x.type === "Established" && x.status === "True")));
  }, { timeoutMs: 60_000, what: "our CRDs Established" });
}

/**
 * Restarts the cluster's kube-apiserver: SIGTERM, and SIGKILL after a 3 s grace period (its
 * graceful shutdown drains requests for up to a minute), `downMs` with nothing listening,
 * then the same command line again; resolves once /readyz answers. etcd and the other
 * components keep running.
 */
export async function restartApiServer(cluster: ExtraCluster, downMs: number): Promise<void> {
  const { state } = cluster;
  const pid = state.pids.apiserver;
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  const signal = (sig: NodeJS.Signals) => { try { process.kill(-pid, sig); } catch { try { process.kill(pid, sig); } catch { /* gone */ } } };
  signal("SIGTERM");
  await eventually(() => !devCluster.alive(pid), { timeoutMs: 3_000, what: "kube-apiserver stopped" }).catch(() => signal("SIGKILL"));
  await eventually(() => !devCluster.alive(pid), { timeoutMs: 10_000, what: "kube-apiserver killed" });
  await new Promise((r) => setTimeout(r, downMs));
  const log = fs.openSync(path.join(state.dir, "logs", "kube-apiserver.log"), "a");
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  child.unref();
  state.pids.apiserver = child.pid!;
  // The state file names the new process, so `down` (and the reaper) stops it.
  fs.writeFileSync(path.join(state.dir, "cluster.json"), JSON.stringify(state, null, 2));
  await eventually(async () => (await devCluster.apiRequest(state, "GET", "/readyz")).status === 200, { timeoutMs: 90_000, intervalMs: 250, what: "kube-apiserver ready again" });
}
