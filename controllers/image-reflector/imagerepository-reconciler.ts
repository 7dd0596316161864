// ImageRepository: scan the repository's tags (Registry HTTP API v2 tags/list, Link
// pagination, Basic/Bearer auth from WWW-Authenticate, via the OCI client source-controller
// uses), drop the exclusion list's matches, store them (tag-store.ts) and report the result.
// A scan happens when Flux's would: first scan, reconcile request, new image name, changed
// exclusion list, no tags stored (e.g. a lost database), or interval elapsed; otherwise the
// stored tags stand and the object requeues for the rest of the interval.
import { ConditionType as CT, FieldManager, Reason } from "../api/meta";
import { ImageReason } from "../api/image/v1/group-version";
import { DefaultExclusionList, ImageRepository, ImageRepositoryNames } from "../api/image/v1/image-repository";
import { markFalse, markReconciling, markStalled, markTrue, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { parseDuration } from "../runtime/duration";
import { ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { reconcileRequestedAt } from "../runtime/reconcile-steps";
import { Result } from "../runtime/result";
import { OciClient } from "../source/oci/oci-client";
import { SecretError, registryCredentials, tlsFromSecret } from "../source/oci/oci-secrets";
import { ImageRef, ImageRefError, clientRegistry, parseImage } from "./image-ref";
import { TagStore } from "./tag-store";

export const imageRepositories = { group: ImageRepositoryNames.group, version: ImageRepositoryNames.version, plural: ImageRepositoryNames.plural, kind: ImageRepositoryNames.kind };

export interface ImageReflectorDeps { store: TagStore; requeueDependencyMs?: number }

type Ctx = ReconcileContext<ImageRepository>;
type Obj = ImageRepository & { status?: Record<string, unknown> };

/** An OciClient for the repository's registry with its credentials and TLS material. */
export async function repositoryClient(obj: ImageRepository, ref: ImageRef, ctx: Pick<ReconcileContext, "client" | "signal">): Promise<OciClient> {
  const ns = obj.metadata.namespace!;
  const registry = clientRegistry(ref);
  const credentials = await registryCredentials(ctx, ns, registry, { secretName: obj.spec.secretRef?.name, serviceAccountName: obj.spec.serviceAccountName });
  const tls = await tlsFromSecret(ctx, ns, obj.spec.certSecretRef?.name);
  const timeoutMs = parseDuration(obj.spec.timeout ?? obj.spec.interval);
  return new OciClient({ registry, repository: ref.repository }, { insecure: obj.spec.insecure, tls, credentials, timeoutMs, signal: ctx.signal });
}

const exclusionList = (obj: ImageRepository) => obj.spec.exclusionList ?? DefaultExclusionList;
const sameContent = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

export function reconcileImageRepository(deps: ImageReflectorDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<Obj>, {
      fieldManager: FieldManager.ImageReflector,
      finalize: async (obj) => {
        deps.store.delete({ namespace: obj.metadata.namespace!, name: obj.metadata.name! });
        return Result.done();
      },
      reconcile: (obj) => reconcileRepo(obj as ImageRepository, ctx, deps),
    });
}

async function reconcileRepo(obj: ImageRepository, ctx: Ctx, deps: ImageReflectorDeps): Promise<Result> {
  const status = (obj.status ??= {});
  const wasReady = status.conditions?.find((c) => c.type === CT.Ready);
  const fail = async (reason: string, message: string, stalled: boolean): Promise<Result> => {
    markFalse(obj, CT.Ready, reason, message);
    if (stalled) { markStalled(obj, reason, message); removeCondition(obj, CT.Reconciling); }
    else markReconciling(obj, Reason.ProgressingWithRetry, "reconciliation in progress");
    void ctx.events.warning(obj, reason, message);
    return stalled ? Result.done() : Result.retry(new Error(message));
  };
  if (obj.metadata.generation !== status.observedGeneration) {
    markReconciling(obj, Reason.Progressing, `processing object: new generation ${status.observedGeneration ?? -1} -> ${obj.metadata.generation}`);
  }
  let ref: ImageRef;
  try { ref = parseImage(obj.spec.image); } catch (e) {
    if (e instanceof ImageRefError) return fail(ImageReason.ImageURLInvalid, e.message, true);
    throw e;
  }
  removeCondition(obj, CT.Stalled);
  if ((obj.spec.provider ?? "generic") !== "generic") {
    return fail(ImageReason.AuthenticationFailed, `provider '${obj.spec.provider}' is not supported by this controller yet; use 'generic' with spec.secretRef or spec.serviceAccountName`, true);
  }
  if (obj.spec.proxySecretRef) return fail(ImageReason.Failure, "spec.proxySecretRef is not supported by this controller yet; remove it", true);
  let oci: OciClient;
  try { oci = await repositoryClient(obj, ref, ctx); } catch (e) {
    if (e instanceof SecretError) return fail(ImageReason.AuthenticationFailed, `failed to configure authentication options: ${e.message}`, false);
    throw e;
  }
  const id = { namespace: obj.metadata.namespace!, name: obj.metadata.name!, canonicalName: ref.canonical };
  const intervalMs = parseDuration(obj.spec.interval);
  const now = ctx.clock.now();
  const last = status.lastScanResult;
  let why: string | undefined;
  let when = intervalMs;
  if (!last) why = "first scan";
  else if (reconcileRequestedAt(obj) !== undefined && reconcileRequestedAt(obj) !== status.lastHandledReconcileAt) why = "reconcile requested";
  else if (ref.canonical !== status.canonicalImageName) why = "new image name";
  else if (!sameContent(exclusionList(obj), status.observedExclusionList ?? [])) why = "updated exclusion list";
  else if (deps.store.tags(id).length === 0) why = "no tags in database";
  else {
    when = intervalMs - (now - Date.parse(last.scanTime ?? "1970-01-01T00:00:00Z"));
    if (when < 1000) { why = "triggered by interval"; when = intervalMs; }
  }
  let eventMsg: string;
  if (why) {
    let patterns: RegExp[];
    try { patterns = exclusionList(obj).map((p) => { try { return new RegExp(p); } catch (e) { throw new Error(`failed to compile regex ${p}: ${(e as Error).message}`); } }); } catch (e) {
      return fail(ImageReason.ReadOperationFailed, `scan failed: ${(e as Error).message}`, false);
    }
    let tags: string[];
    try { tags = await oci.tags(); } catch (e) {
      const msg = `scan failed: ${(e as Error).message}${/does not speak HTTPS/.test((e as Error).message) ? "; set spec.insecure: true for a plain-HTTP registry" : ""}`;
      return fail(/UNAUTHORIZED|DENIED|token request/.test(msg) ? ImageReason.AuthenticationFailed : ImageReason.ReadOperationFailed, msg, false);
    }
    // Stored sorted in descending order, as Flux does (the checksum depends on it).
    const kept = tags.filter((t) => !patterns.some((p) => p.test(t))).sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
    const revision = deps.store.setTags(id, kept);
    status.lastScanResult = { revision, tagCount: kept.length, scanTime: new Date(now).toISOString().replace(/\.\d+Z$/, "Z"), ...(kept.length ? { latestTags: kept.slice(0, 10) } : {}) };
    eventMsg = `${last?.revision === revision ? "tags did not change" : "successful scan"}, next scan in ${Math.round(when / 1000)}s`;
  } else {
    eventMsg = `no change in repository configuration since last scan, next scan in ${Math.round(when / 1000)}s`;
  }
  status.canonicalImageName = ref.canonical;
  status.observedExclusionList = exclusionList(obj);
  const msg = `successful scan: found ${status.lastScanResult!.tagCount} tags with checksum ${status.lastScanResult!.revision}`;
  markTrue(obj, CT.Ready, Reason.Succeeded, msg);
  removeCondition(obj, CT.Reconciling);
  if (wasReady?.status !== "True" || wasReady.message !== msg) void ctx.events.normal(obj, Reason.Succeeded, msg);
  else ctx.log.debug({ message: eventMsg }, "scan result unchanged");
  return Result.requeueAfter(Math.max(when, 1000));
}
