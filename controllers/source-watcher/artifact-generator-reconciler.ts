// ArtifactGenerator: read the sources' artifacts, and when anything changed (sources digest,
// generation, a failed last run, a missing stored artifact or ExternalArtifact) build every
// output and publish it as an ExternalArtifact (server-side apply, status with the artifact).
// Conditions, reasons, messages and drift checks follow Flux's source-watcher.
import { createHash } from "node:crypto";
import { ExternalArtifact, ExternalArtifactNames } from "../api/source/v1/external-artifact";
import { BucketNames } from "../api/source/v1/bucket";
import { GitRepositoryNames } from "../api/source/v1/git-repository";
import { HelmChartNames } from "../api/source/v1/helm-chart";
import { OCIRepositoryNames } from "../api/source/v1/oci-repository";
import {
  ArtifactGenerator, ArtifactGeneratorMeta as M, ArtifactGeneratorNames, ArtifactGeneratorReason as R, ExternalArtifactReference,
} from "../api/source-extensions/v1beta1/artifact-generator";
import type { ArtifactFetcher } from "../runtime/artifact-fetcher";
import type { Artifact, Storage } from "../runtime/artifact-storage";
import { jittered } from "../runtime/backoff";
import { getCondition, isFalse, isTrue, markFalse, markReconciling, markStalled, markTrue, markUnknown, metaTime, removeCondition } from "../runtime/conditions";
import type { ReconcileContext } from "../runtime/controller";
import { addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "../runtime/finalizers";
import { deepClone } from "../runtime/json-merge";
import type { KubeObject, ObjectKey } from "../runtime/keys";
import type { ResourceRef } from "../runtime/kube";
import { markReconcileRequestHandled } from "../runtime/reconcile-steps";
import { Result } from "../runtime/result";
import { patchStatus } from "../runtime/status-patch";
import type { FileTree } from "../runtime/tar-reader";
import { buildArtifact } from "./builder";
import { ArtifactRequest, PathPatternError, expandArtifacts } from "./path-pattern";

const ref = (n: { group: string; version: string; plural: string; kind: string }): ResourceRef & { kind: string } =>
  ({ group: n.group, version: n.version, plural: n.plural, kind: n.kind });
export const artifactGenerators = ref(ArtifactGeneratorNames);
export const externalArtifacts = ref(ExternalArtifactNames);
/** The source kinds an ArtifactGenerator reads. */
export const sourceKinds: Record<string, ResourceRef & { kind: string }> = {
  GitRepository: ref(GitRepositoryNames), OCIRepository: ref(OCIRepositoryNames), Bucket: ref(BucketNames),
  HelmChart: ref(HelmChartNames), ExternalArtifact: externalArtifacts,
};

const msgInProgress = "Reconciliation in progress";
const REQUEUE_MS = 60 * 60 * 1000; // Flux: GetRequeueAfter() is one hour.

export interface ArtifactGeneratorDeps {
  storage: Storage;
  fetcher: ArtifactFetcher;
  noCrossNamespaceRefs: boolean;
  requeueDependencyMs: number;
}

type SourceArtifact = { digest: string; revision: string; url: string; originRevision?: string };
type WithArtifact = KubeObject & { status?: { artifact?: Artifact } };

/** Flux's HashObservedSources: sha256 over sorted `alias=[digest=..,revision=..,url=..]`. */
export function hashObservedSources(sources: Map<string, SourceArtifact>): string {
  const parts = [...sources].map(([alias, s]) => `${alias}=[digest=${s.digest},revision=${s.revision},url=${s.url}]`).sort();
  return `sha256:${createHash("sha256").update(parts.join("|")).digest("hex")}`;
}

class Terminal extends Error { constructor(readonly reason: string, message: string) { super(message); } }

export function reconcileArtifactGenerator(deps: ArtifactGeneratorDeps) {
  return async (key: ObjectKey, ctx: ReconcileContext<ArtifactGenerator>): Promise<Result> => {
    const res = artifactGenerators;
    const obj = await ctx.client.get<ArtifactGenerator>(res, key, { signal: ctx.signal });
    if (!obj) return Result.done();
    const fin = { fieldManager: M.ControllerName, signal: ctx.signal };
    if (isDeleting(obj)) {
      if (!hasFinalizer(obj, M.Finalizer)) return Result.done();
      await deleteArtifacts(obj.status?.inventory ?? [], deps, ctx);
      await removeFinalizer(ctx.client, res, obj, M.Finalizer, fin);
      return Result.done();
    }
    let before = deepClone(obj);
    const patch = async () => {
      await patchStatus(ctx.client, res, before, obj, { fieldManager: M.ControllerName, signal: ctx.signal });
      before = deepClone(obj);
    };
    let result: Result;
    try {
      if (!hasFinalizer(obj, M.Finalizer)) {
        await addFinalizer(ctx.client, res, obj, M.Finalizer, fin);
        before.metadata.resourceVersion = obj.metadata.resourceVersion;
        markUnknown(obj, "Ready", "Progressing", msgInProgress);
        markReconciling(obj, "Progressing", msgInProgress);
      }
      if ((obj.metadata.annotations?.[M.ReconcileAnnotation] ?? "").toLowerCase() === "disabled") {
        ctx.log.info("Reconciliation is disabled");
        result = Result.done();
      } else {
        result = await steps(obj, ctx, deps, patch);
      }
    } catch (e) {
      if (!(e instanceof Terminal)) throw e;
      markFalse(obj, "Ready", e.reason, e.message);
      markStalled(obj, e.reason, e.message);
      await ctx.events.warning(obj, e.reason, e.message);
      result = Result.terminal(e);
    }
    // Flux's summarizeStatus.
    markReconcileRequestHandled(obj as never);
    const rc = getCondition(obj, "Reconciling");
    if (isFalse(obj, "Ready") && rc) rc.reason = "ProgressingWithRetry";
    if (isTrue(obj, "Ready") || isTrue(obj, "Stalled")) removeCondition(obj, "Reconciling");
    await patch();
    return result;
  };
}

function validate(obj: ArtifactGenerator, deps: ArtifactGeneratorDeps): void {
  const aliases = new Set<string>();
  for (const s of obj.spec.sources) {
    if (aliases.has(s.alias)) throw new Terminal(R.ValidationFailed, `duplicate source alias '${s.alias}' found`);
    aliases.add(s.alias);
    if (deps.noCrossNamespaceRefs && s.namespace && s.namespace !== obj.metadata.namespace) {
      throw new Terminal(R.AccessDenied, `cross-namespace reference to source ${s.kind}/${s.namespace}/${s.name} is not allowed`);
    }
  }
  const names = new Set<string>();
  for (const a of obj.spec.artifacts) {
    if (names.has(a.name)) throw new Terminal(R.ValidationFailed, `duplicate artifact name '${a.name}' found`);
    if (a.revision && !aliases.has(a.revision.slice(1))) throw new Terminal(R.ValidationFailed, `artifact ${a.name} revision source alias '${a.revision.slice(1)}' not found`);
    names.add(a.name);
  }
}

async function observeSources(obj: ArtifactGenerator, ctx: ReconcileContext<ArtifactGenerator>): Promise<Map<string, SourceArtifact>> {
  const out = new Map<string, SourceArtifact>();
  for (const s of obj.spec.sources) {
    const ns = s.namespace || obj.metadata.namespace!;
    const r = sourceKinds[s.kind]!;
    const src = await ctx.client.get<WithArtifact>(r, { namespace: ns, name: s.name }, { signal: ctx.signal });
    if (!src) throw new Error(`${r.plural}.${r.group} "${s.name}" not found`);
    const a = src.status?.artifact;
    if (!a) throw new Error(`source '${s.kind}/${ns}/${s.name}' is not ready`);
    const origin = a.metadata?.[M.OriginRevisionAnnotation];
    out.set(s.alias, { digest: a.digest, revision: a.revision, url: a.url, ...(origin ? { originRevision: origin } : {}) });
  }
  return out;
}

async function listGenerated(obj: ArtifactGenerator, ctx: ReconcileContext<ArtifactGenerator>): Promise<ExternalArtifact[]> {
  const list = await ctx.client.list<ExternalArtifact>(externalArtifacts, { namespace: obj.metadata.namespace, labelSelector: `${M.GeneratorLabel}=${obj.metadata.uid}`, signal: ctx.signal });
  return list.items;
}

/** Flux's detectDrift: why the artifacts must be built again, or undefined. */
async function drift(obj: ArtifactGenerator, digest: string, ctx: ReconcileContext<ArtifactGenerator>, deps: ArtifactGeneratorDeps): Promise<string | undefined> {
  const st = obj.status ?? {};
  if (isFalse(obj, "Ready")) return "NotReady";
  if (obj.metadata.generation !== getCondition(obj, "Ready")?.observedGeneration) return "GenerationChanged";
  if (st.observedSourcesDigest !== digest) return "SourcesChanged";
  const inv = st.inventory ?? [];
  // With pathPattern the number of artifacts follows the source's directories.
  if (inv.length !== obj.spec.artifacts.length && !obj.spec.pathPattern) return "ArtifactsChanged";
  for (const e of inv) {
    const p = deps.storage.artifactPath("ExternalArtifact", e.namespace, e.name, e.filename);
    if (!deps.storage.exists({ path: p })) return "ArtifactMissing";
    // As Flux: a stored file that no longer matches its digest is deleted and built again.
    if (!(await deps.storage.verify(p, e.digest))) {
      ctx.log.error({ artifact: `ExternalArtifact/${e.namespace}/${e.name}`, path: p }, "Artifact integrity verification failed, deleting corrupted artifact");
      deps.storage.remove(p);
      return "ArtifactCorrupted";
    }
  }
  const eas = await listGenerated(obj, ctx).catch(() => undefined);
  if (!eas) return "ExternalArtifactsNotFound";
  if (eas.length !== inv.length || eas.some((ea) => !inv.some((e) => e.name === ea.metadata.name && e.digest === ea.status?.artifact?.digest))) return "ExternalArtifactsChanged";
  return undefined;
}

async function steps(obj: ArtifactGenerator, ctx: ReconcileContext<ArtifactGenerator>, deps: ArtifactGeneratorDeps, patch: () => Promise<void>): Promise<Result> {
  validate(obj, deps);
  const fail = async (reason: string, msg: string) => {
    markFalse(obj, "Ready", reason, msg);
    await ctx.events.warning(obj, reason, msg);
  };
  let observed: Map<string, SourceArtifact>;
  try { observed = await observeSources(obj, ctx); } catch (e) {
    await fail(R.SourceFetchFailed, `get sources failed: ${(e as Error).message}`);
    return Result.requeueAfter(deps.requeueDependencyMs);
  }
  const digest = hashObservedSources(observed);
  const why = await drift(obj, digest, ctx, deps);
  if (!why) {
    ctx.log.info(`No drift detected, ${obj.status?.inventory?.length ?? 0} artifact(s) up to date`);
    return Result.requeueAfter(jittered(REQUEUE_MS, ctx.intervalJitter));
  }
  markReconciling(obj, "Progressing", msgInProgress);
  markUnknown(obj, "Ready", "Progressing", msgInProgress);
  ctx.log.info({ reason: why }, msgInProgress);
  await patch();

  const trees = new Map<string, FileTree>();
  try {
    for (const [alias, s] of observed) trees.set(alias, await deps.fetcher.fetch({ url: s.url, digest: s.digest }, ctx.signal));
  } catch (e) {
    await fail(R.SourceFetchFailed, `fetch sources failed: ${(e as Error).message}`);
    return Result.requeueAfter(deps.requeueDependencyMs);
  }

  let requests: ArtifactRequest[];
  try { requests = expandArtifacts(obj.spec.pathPattern, obj.spec.artifacts, trees); } catch (e) {
    if (e instanceof PathPatternError) throw new Terminal("BuildFailed", `failed to expand path pattern: ${e.message}`);
    throw e;
  }

  const ns = obj.metadata.namespace!;
  const refs: ExternalArtifactReference[] = [];
  const old = obj.status?.inventory ?? [];
  const changed: string[] = [];
  for (const { artifact: oa, labels } of requests) {
    let artifact: Artifact;
    try { artifact = await buildArtifact(oa, trees, ns, deps.storage); } catch (e) {
      await fail("BuildFailed", `${oa.name} build failed: ${(e as Error).message}`);
      return Result.retry(e);
    }
    if (oa.revision) { const s = observed.get(oa.revision.slice(1)); if (s) artifact.revision = s.revision; }
    if (oa.originRevision) {
      const s = observed.get(oa.originRevision.slice(1));
      if (s) artifact.metadata = { ...artifact.metadata, [M.OriginRevisionAnnotation]: s.originRevision || s.revision };
    }
    try { await publish(obj, oa.name, artifact, labels, ctx); } catch (e) {
      await fail("ReconciliationFailed", `${oa.name} reconcile failed: ${(e as Error).message}`);
      return Result.retry(e);
    }
    const filename = artifact.path.split("/").pop()!;
    refs.push({ name: oa.name, namespace: ns, digest: artifact.digest, filename });
    if (!old.some((e) => e.name === oa.name && e.digest === artifact.digest)) changed.push(`${ns}/${oa.name} (${artifact.digest})`);
    deps.storage.garbageCollect("ExternalArtifact", ns, oa.name, artifact.path);
  }
  await deleteArtifacts(old.filter((e) => !refs.some((r) => r.name === e.name && r.namespace === e.namespace)), deps, ctx);
  const status = (obj.status ??= {});
  status.inventory = refs;
  status.observedSourcesDigest = digest;
  removeCondition(obj, "Stalled");
  markTrue(obj, "Ready", "Succeeded", `reconciliation succeeded, generated ${refs.length} artifact(s)`);
  if (changed.length) await ctx.events.normal(obj, "Ready", `external artifacts reconciled: ${changed.join("\n")}`);
  return Result.requeueAfter(jittered(REQUEUE_MS, ctx.intervalJitter));
}

/** Applies the ExternalArtifact (labels, with pathPattern's captures; sourceRef) and then its status, as source-watcher does. */
async function publish(obj: ArtifactGenerator, name: string, artifact: Artifact, captures: Record<string, string>, ctx: ReconcileContext<ArtifactGenerator>): Promise<void> {
  const cm = obj.spec.commonMetadata;
  const labels = { ...cm?.labels, ...captures, "app.kubernetes.io/managed-by": M.ControllerName, [M.GeneratorLabel]: obj.metadata.uid! };
  const ea = {
    apiVersion: ExternalArtifactNames.apiVersion, kind: ExternalArtifactNames.kind,
    metadata: { name, namespace: obj.metadata.namespace, labels, ...(cm?.annotations && Object.keys(cm.annotations).length ? { annotations: { ...cm.annotations } } : {}) },
    spec: { sourceRef: { apiVersion: ArtifactGeneratorNames.apiVersion, kind: ArtifactGeneratorNames.kind, name: obj.metadata.name!, namespace: obj.metadata.namespace } },
  };
  const applied = await ctx.client.apply<ExternalArtifact>(externalArtifacts, ea as never, { fieldManager: M.ControllerName, force: true, signal: ctx.signal });
  const { path, url, revision, digest, lastUpdateTime, size, metadata } = artifact;
  await ctx.client.apply(externalArtifacts, {
    apiVersion: ExternalArtifactNames.apiVersion, kind: ExternalArtifactNames.kind,
    metadata: { name, namespace: obj.metadata.namespace },
    status: {
      artifact: { path, url, revision, digest, lastUpdateTime, size, ...(metadata ? { metadata } : {}) },
      conditions: [{ type: "Ready", status: "True", reason: "Succeeded", message: "Artifact is ready", observedGeneration: applied.metadata.generation, lastTransitionTime: metaTime(new Date()) }],
    },
  } as never, { fieldManager: M.ControllerName, subresource: "status", signal: ctx.signal });
}

async function deleteArtifacts(refs: ExternalArtifactReference[], deps: ArtifactGeneratorDeps, ctx: ReconcileContext<ArtifactGenerator>): Promise<void> {
  for (const r of refs) {
    deps.storage.removeAll("ExternalArtifact", r.namespace, r.name);
    try { await ctx.client.delete(externalArtifacts, { namespace: r.namespace, name: r.name }, { signal: ctx.signal }); }
    catch (e) { ctx.log.error({ error: e }, "Failed to delete ExternalArtifact"); }
  }
}
