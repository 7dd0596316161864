// kustomize-controller: the Kustomization controller, its watches and its dependencies,
// wired from flags read once at startup.
import type { KubeConfig } from "@kubernetes/client-node";
import * as os from "node:os";
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { ConditionType as CT, Label, LabelValueWatchEnabled } from "../api/meta";
import { isTrue } from "../runtime/conditions";
import { ControllerDefinition, SecondaryWatch } from "../runtime/controller";
import { EventRecorder } from "../runtime/events";
import { KubeClient } from "../runtime/kube";
import { ObjectKey } from "../runtime/keys";
import { Logger } from "../runtime/logger";
import { ArtifactFetcher } from "../runtime/artifact-fetcher";
import { ClientFactory } from "./clients";
import { hasRevision, kustomizations } from "./dependencies";
import type { KustomizeDeps } from "./deps";
import { reconcileKustomization } from "./kustomization-reconciler";
import { SourceCache, SourceObject, sourceResources } from "./source";

export interface KustomizeControllerOptions {
  /** Where objects are applied (the controller's identity). */
  kubeConfig: KubeConfig;
  /** The manager's client: events. */
  client: KubeClient;
  logger?: Logger;
  kubeApiQps: number;
  kubeApiBurst: number;
  concurrentSsa?: number;
  noCrossNamespaceRefs?: boolean;
  /** --no-remote-bases: kustomizations may reference only files of the source artifact. */
  noRemoteBases?: boolean;
  defaultServiceAccount?: string;
  requeueDependencyMs?: number;
  kustomizePath: string;
  sopsPath: string;
  tmpRoot?: string;
  /** --feature-gates: StrictPostBuildSubstitutions, ExternalArtifact, PlainBuildInProcess, AdditiveCELDependencyCheck. */
  featureGates?: Record<string, boolean>;
}

export interface KustomizeController {
  definitions: ControllerDefinition<never>[];
  /** Where its events are recorded: `gitops controllers run` forwards them to notification-controller. */
  events: EventRecorder;
  close(): Promise<void>;
}

const byKey = (o: { metadata?: { namespace?: string; name?: string } }): ObjectKey => ({ namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });

export function startKustomizeController(o: KustomizeControllerOptions): KustomizeController {
  const gates = o.featureGates ?? {};
  const deps: KustomizeDeps = {
    fetcher: new ArtifactFetcher({ hostOverride: process.env.SOURCE_CONTROLLER_LOCALHOST || undefined }),
    clients: new ClientFactory(o.kubeConfig, { qps: o.kubeApiQps, burst: o.kubeApiBurst, defaultServiceAccount: o.defaultServiceAccount }),
    events: new EventRecorder(o.client, { reportingController: "kustomize-controller", reportingInstance: os.hostname(), logger: o.logger }),
    sources: new SourceCache(),
    kustomize: o.kustomizePath,
    sops: o.sopsPath,
    tmpRoot: o.tmpRoot,
    noCrossNamespaceRefs: o.noCrossNamespaceRefs ?? false,
    noRemoteBases: o.noRemoteBases ?? false,
    allowExternalArtifact: gates.ExternalArtifact ?? false,
    strictSubstitutions: gates.StrictPostBuildSubstitutions ?? false,
    plainBuildInProcess: gates.PlainBuildInProcess ?? true,
    additiveCelDependencyCheck: gates.AdditiveCELDependencyCheck ?? false,
    requeueDependencyMs: o.requeueDependencyMs ?? 30_000,
    concurrentSsa: o.concurrentSsa ?? 4,
  };
  const kinds = Object.keys(sourceResources).filter((k) => k !== "ExternalArtifact" || deps.allowExternalArtifact);
  const watches: SecondaryWatch<Kustomization>[] = kinds.map((kind) => sourceWatch(kind, deps.sources));
  watches.push(dependentsWatch(), configWatch("configmaps", "ConfigMap"), configWatch("secrets", "Secret"));
  const def: ControllerDefinition<Kustomization> = {
    name: "kustomization",
    kind: kustomizations,
    reconcile: reconcileKustomization(deps),
    watches,
  };
  return {
    events: deps.events,
    definitions: [def as unknown as ControllerDefinition<never>],
    close: async () => { deps.fetcher.close(); },
  };
}

/** A new artifact revision enqueues the Kustomizations built from it (Flux's predicate). */
function sourceWatch(kind: string, cache: SourceCache): SecondaryWatch<Kustomization> {
  return {
    resource: sourceResources[kind],
    map: (ev, primary) => {
      const src = ev.object as SourceObject;
      if (ev.type === "deleted") { cache.delete(kind, src); return []; }
      cache.set(kind, src);
      const now = src.status?.artifact;
      const before = (ev.previous as SourceObject | undefined)?.status?.artifact;
      if (ev.type !== "updated" || !now || (before && hasRevision(now.revision, before.revision))) return [];
      const ns = src.metadata?.namespace;
      return primary.list().filter((k) => k.spec.sourceRef.kind === kind && k.spec.sourceRef.name === src.metadata?.name
        && (k.spec.sourceRef.namespace || k.metadata.namespace) === ns
        && !((isTrue(k, CT.Ready) || isTrue(k, CT.Reconciling)) && hasRevision(now.revision, k.status?.lastAttemptedRevision)))
        .map(byKey);
    },
  };
}

/**
 * A Kustomization that becomes Ready (or applies a new revision) enqueues the ones that
 * depend on it, instead of leaving them to the --requeue-dependency poll.
 */
function dependentsWatch(): SecondaryWatch<Kustomization> {
  return {
    resource: kustomizations,
    map: (ev, primary) => {
      const k = ev.object as Kustomization;
      const prev = ev.previous as Kustomization | undefined;
      if (ev.type !== "updated" || !isTrue(k, CT.Ready)) return [];
      if (prev && isTrue(prev, CT.Ready) && prev.status?.lastAppliedRevision === k.status?.lastAppliedRevision) return [];
      return primary.list().filter((d) => d.spec.dependsOn?.some((r) => r.name === k.metadata.name && (r.namespace || d.metadata.namespace) === k.metadata.namespace)).map(byKey);
    },
  };
}

/** ConfigMaps and Secrets labelled reconcile.fluxcd.io/watch=Enabled enqueue their users. */
function configWatch(plural: string, kind: "ConfigMap" | "Secret"): SecondaryWatch<Kustomization> {
  return {
    resource: { group: "", version: "v1", plural, kind },
    labelSelector: `${Label.Watch}=${LabelValueWatchEnabled}`,
    map: (ev, primary) => {
      if (ev.type === "added") return [];
      const name = ev.object.metadata?.name;
      const ns = ev.object.metadata?.namespace;
      return primary.list(ns).filter((k) => {
        const s = k.spec;
        return (s.postBuild?.substituteFrom ?? []).some((r) => r.kind === kind && r.name === name)
          || (kind === "Secret" && (s.decryption?.secretRef?.name === name || s.kubeConfig?.secretRef?.name === name))
          || (kind === "ConfigMap" && s.kubeConfig?.configMapRef?.name === name);
      }).map(byKey);
    },
  };
}
