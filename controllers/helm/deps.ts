// What the HelmRelease reconciler is given at startup (read once, never during reconcile).
import { EventRecorder } from "../runtime/events";
import type { KubeClient } from "../runtime/kube";
import { ChartFetcher } from "./chart-fetcher";
import type { RemoteClusters } from "./remote-cluster";

export interface HelmDeps {
  /** Path of the real helm v3 binary. */
  helm: string;
  /** Path of the real kustomize binary: the post-renderer (post-render.ts) runs it. */
  kustomize?: string;
  /** A client for the controller's cluster as helm runs there: impersonating `asUser` when set (release-storage.ts reads with it). */
  storageClient?: (asUser?: string) => KubeClient;
  /** A kubeconfig file for the cluster helm installs into (the controller's identity). */
  kubeconfigPath: string;
  /** HELM_CACHE_HOME/HELM_CONFIG_HOME/HELM_DATA_HOME and chart temp files go under here. */
  workDir: string;
  fetcher: ChartFetcher;
  /** spec.kubeConfig: kubeconfig files and clients for remote clusters. */
  remotes: RemoteClusters;
  /** Events as `helm-controller`. */
  events: EventRecorder;
  noCrossNamespaceRefs: boolean;
  /** --feature-gates=ExternalArtifact=true: chartRef of kind ExternalArtifact. */
  allowExternalArtifact: boolean;
  /** Retry delay while the chart source has no artifact, or a dependsOn entry is not Ready. */
  requeueDependencyMs: number;
  /** ServiceAccount (in the HelmRelease's namespace) helm impersonates when spec.serviceAccountName is unset. */
  defaultServiceAccount?: string;
}
