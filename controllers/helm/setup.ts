// helm-controller: the HelmRelease controller, its watches and its dependencies, wired from
// flags read once at startup. helm runs with a kubeconfig file written here (mode 0600) from
// the controller's own KubeConfig.
import { kubeconfigForHelm } from "./kubeconfig";
import type { KubeConfig } from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { HelmReleaseNames } from "../api/helm/v2/helm-release";
import { ConditionType as CT, Label, LabelValueWatchEnabled } from "../api/meta";
import { isTrue } from "../runtime/conditions";
import { ControllerDefinition, KindRef, SecondaryWatch } from "../runtime/controller";
import { EventRecorder } from "../runtime/events";
import { KubeClient } from "../runtime/kube";
import { ObjectKey } from "../runtime/keys";
import { Logger } from "../runtime/logger";
import { ChartFetcher } from "./chart-fetcher";
import { ChartSourceObject, chartSourceRefOf, chartSourceResources } from "./chart-source";
import type { HelmDeps } from "./deps";
import { reconcileHelmRelease } from "./helm-release-reconciler";
import { RemoteClusters } from "./remote-cluster";
import { impersonating } from "../runtime/impersonation";

export const helmReleases: KindRef = { group: HelmReleaseNames.group, version: HelmReleaseNames.version, plural: HelmReleaseNames.plural, kind: HelmReleaseNames.kind };

export interface HelmControllerOptions {
  kubeConfig: KubeConfig;
  /** The manager's client: events. */
  client: KubeClient;
  logger?: Logger;
  helmPath: string;
  /** kustomize for spec.postRenderers, commonMetadata and the origin labels (post-render.ts). */
  kustomizePath?: string;
  noCrossNamespaceRefs?: boolean;
  requeueDependencyMs?: number;
  /** --default-service-account: impersonated when a HelmRelease sets no spec.serviceAccountName. */
  defaultServiceAccount?: string;
  /** --feature-gates (ExternalArtifact). */
  featureGates?: Record<string, boolean>;
  /** Where helm's homes, the kubeconfig and fetched charts go; a temp dir by default. */
  workDir?: string;
}

export interface HelmController {
  definitions: ControllerDefinition<never>[];
  /** Where its events are recorded: `gitops controllers run` forwards them to notification-controller. */
  events: EventRecorder;
  close(): Promise<void>;
}

const byKey = (o: { metadata?: { namespace?: string; name?: string } }): ObjectKey => ({ namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });

/** Clients helm's release storage is read with, one per impersonated user (and one without). */
function storageClients(kc: KubeConfig): (asUser?: string) => KubeClient {
  const clients = new Map<string, KubeClient>();
  return (asUser) => {
    let c = clients.get(asUser ?? "");
    if (!c) {
      c = KubeClient.fromKubeConfig(asUser ? impersonating(kc, asUser) : kc, { qps: 50, burst: 100, userAgent: "helm-controller" });
      clients.set(asUser ?? "", c);
      if (clients.size > 256) clients.delete(clients.keys().next().value as string);
    }
    return c;
  };
}

export function startHelmController(o: HelmControllerOptions): HelmController {
  const owned = !o.workDir;
  const workDir = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "helm-controller-"));
  const kubeconfigPath = path.join(workDir, "kubeconfig");
  fs.writeFileSync(kubeconfigPath, kubeconfigForHelm(o.kubeConfig), { mode: 0o600 });
  const deps: HelmDeps = {
    helm: o.helmPath,
    kustomize: o.kustomizePath,
    kubeconfigPath,
    workDir,
    remotes: new RemoteClusters(workDir),
    storageClient: storageClients(o.kubeConfig),
    fetcher: new ChartFetcher(path.join(workDir, "charts"), process.env.SOURCE_CONTROLLER_LOCALHOST || undefined),
    events: new EventRecorder(o.client, { reportingController: "helm-controller", reportingInstance: os.hostname(), logger: o.logger }),
    noCrossNamespaceRefs: o.noCrossNamespaceRefs ?? false,
    allowExternalArtifact: o.featureGates?.ExternalArtifact ?? false,
    requeueDependencyMs: o.requeueDependencyMs ?? 5_000,
    defaultServiceAccount: o.defaultServiceAccount || undefined,
  };
  // ExternalArtifacts are watched only with the gate on (an install without the CRD must still start).
  const watches: SecondaryWatch<HelmRelease>[] = Object.keys(chartSourceResources)
    .filter((k) => k !== "ExternalArtifact" || deps.allowExternalArtifact).map(sourceWatch);
  watches.push(configWatch("configmaps", "ConfigMap"), configWatch("secrets", "Secret"), dependentsWatch());
  const def: ControllerDefinition<HelmRelease> = { name: "helmrelease", kind: helmReleases, reconcile: reconcileHelmRelease(deps), watches };
  return {
    events: deps.events,
    definitions: [def as unknown as ControllerDefinition<never>],
    close: async () => {
      deps.fetcher.close();
      if (owned) fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** A chart source with a new artifact enqueues the HelmReleases that use it. */
function sourceWatch(kind: string): SecondaryWatch<HelmRelease> {
  return {
    resource: chartSourceResources[kind],
    map: (ev, primary) => {
      if (ev.type === "deleted") return [];
      const src = ev.object as ChartSourceObject;
      const prev = ev.previous as ChartSourceObject | undefined;
      const now = src.status?.artifact;
      if (!now || (prev?.status?.artifact?.digest === now.digest && prev?.status?.artifact?.revision === now.revision)) return [];
      return primary.list().filter((hr) => {
        try {
          const r = chartSourceRefOf(hr);
          return r.kind === kind && r.name === src.metadata?.name && r.namespace === src.metadata?.namespace;
        } catch { return false; }
      }).map(byKey);
    },
  };
}

/**
 * A HelmRelease that becomes Ready enqueues the ones depending on it, instead of leaving them
 * to the --requeue-dependency poll.
 */
function dependentsWatch(): SecondaryWatch<HelmRelease> {
  return {
    resource: helmReleases,
    map: (ev, primary) => {
      const hr = ev.object as HelmRelease;
      const prev = ev.previous as HelmRelease | undefined;
      if (ev.type !== "updated" || !isTrue(hr as never, CT.Ready)) return [];
      if (prev && isTrue(prev as never, CT.Ready) && prev.status?.observedGeneration === hr.status?.observedGeneration) return [];
      return primary.list().filter((d) => d.spec.dependsOn?.some((r) => r.name === hr.metadata.name && (r.namespace || d.metadata.namespace) === hr.metadata.namespace)).map(byKey);
    },
  };
}

/** ConfigMaps and Secrets labelled reconcile.fluxcd.io/watch=Enabled enqueue the releases reading values (or a kubeconfig) from them. */
function configWatch(plural: string, kind: "ConfigMap" | "Secret"): SecondaryWatch<HelmRelease> {
  return {
    resource: { group: "", version: "v1", plural, kind },
    labelSelector: `${Label.Watch}=${LabelValueWatchEnabled}`,
    map: (ev, primary) => {
      if (ev.type === "added") return [];
      const name = ev.object.metadata?.name;
      return primary.list(ev.object.metadata?.namespace)
        .filter((hr) => (hr.spec.valuesFrom ?? []).some((r) => r.kind === kind && r.name === name)
          || (kind === "Secret" && hr.spec.kubeConfig?.secretRef?.name === name)).map(byKey);
    },
  };
}
