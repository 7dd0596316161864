// A second embedded cluster (etcd, kube-apiserver, controller-manager, scheduler and a kwok
// node, as the shared one) owned by one test file: the "remote" cluster of a kubeConfig
// Kustomization, or a cluster whose API server a test may restart. It lives under the
// directory the root hook reaps, so a SIGKILLed run's cluster is stopped by the next run.
import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as devCluster from "../../../cli/dev-cluster";
import { KubeClient } from "../../../controllers/runtime/kube";
import { randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";

export interface ExtraCluster {
  state: devCluster.ClusterState;
  kc: k8s.KubeConfig;
  client: KubeClient;
  /** The admin kubeconfig, as text (for a kubeConfig Secret). */
  kubeconfig: string;
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
