// ImagePolicy: read the tags its ImageRepository's scan stored, filter them, pick the latest
// with the policy, and report it in status.latestRef (with the manifest digest from a HEAD
// request when digestReflectionPolicy asks). A cross-namespace ImageRepository must allow the
// policy's namespace in spec.accessFrom. Re-run when the repository's scan result changes
// (imagepolicy-setup watch), at spec.interval for digestReflectionPolicy Always.
import { ConditionType as CT, Reason } from "../api/meta";
import { FieldManager } from "../api/meta";
import { ImageReason } from "../api/image/v1/group-version";
import { ImagePolicy, ImagePolicyNames, ImageRef as LatestRef } from "../api/image/v1/image-policy";
import { ImageRepository } from "../api/image/v1/image-repository";
import { markFalse, markReconciling, markStalled, markTrue, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { parseDuration } from "../runtime/duration";
import { KubeObject, ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { Result } from "../runtime/result";
import { SecretError } from "../source/oci/oci-secrets";
import { ImageRefError, parseImage } from "./image-ref";
import { ImageReflectorDeps, imageRepositories, repositoryClient } from "./imagerepository-reconciler";
import { InvalidPolicyError, filterTags, policerFromSpec } from "./policy";

export const imagePolicies = { group: ImagePolicyNames.group, version: ImagePolicyNames.version, plural: ImagePolicyNames.plural, kind: ImagePolicyNames.kind };
const namespaces = { group: "", version: "v1", plural: "namespaces", kind: "Namespace" };

type Ctx = ReconcileContext<ImagePolicy>;
type Obj = ImagePolicy & { status?: Record<string, unknown> };

class AccessDenied extends Error {}

export function reconcileImagePolicy(deps: ImageReflectorDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<Obj>, {
      fieldManager: FieldManager.ImageReflector,
      reconcile: (obj) => reconcilePolicy(obj as ImagePolicy, ctx, deps),
    });
}

/** The referenced ImageRepository, if the policy may use it. */
async function imageRepository(obj: ImagePolicy, ctx: Ctx): Promise<ImageRepository | undefined> {
  const ns = obj.spec.imageRepositoryRef.namespace || obj.metadata.namespace!;
  const name = obj.spec.imageRepositoryRef.name;
  const repo = await ctx.client.get<ImageRepository>(imageRepositories, { namespace: ns, name }, { signal: ctx.signal });
  if (!repo) return undefined;
  if (ns !== obj.metadata.namespace) {
    const nsObj = await ctx.client.get<KubeObject>(namespaces, { namespace: "", name: obj.metadata.namespace! }, { signal: ctx.signal });
    const labels = nsObj?.metadata?.labels ?? {};
    const allowed = (repo.spec.accessFrom?.namespaceSelectors ?? []).some((s) => Object.entries(s.matchLabels ?? {}).every(([k, v]) => labels[k] === v));
    if (!allowed) throw new AccessDenied(`access denied: 'ImagePolicy/${obj.metadata.namespace}/${obj.metadata.name}' can't access 'ImageRepository/${ns}/${name}': its namespace '${obj.metadata.namespace}' matches none of the ImageRepository's spec.accessFrom.namespaceSelectors`);
  }
  return repo;
}

async function reconcilePolicy(obj: ImagePolicy, ctx: Ctx, deps: ImageReflectorDeps): Promise<Result> {
  const status = (obj.status ??= {});
  const wasReady = status.conditions?.find((c) => c.type === CT.Ready);
  const reflect = obj.spec.digestReflectionPolicy ?? "Never";
  const fail = (reason: string, message: string, how: "stall" | "retry" | Result): Result => {
    markFalse(obj, CT.Ready, reason, message);
    if (how === "stall") { markStalled(obj, reason, message); removeCondition(obj, CT.Reconciling); }
    else { removeCondition(obj, CT.Stalled); markReconciling(obj, Reason.ProgressingWithRetry, "reconciliation in progress"); }
    void ctx.events.warning(obj, reason, message);
    return how === "stall" ? Result.done() : how === "retry" ? Result.retry(new Error(message)) : how;
  };
  if (reflect === "Always" && !obj.spec.interval) {
    return fail(ImageReason.IntervalNotConfigured, "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'", "stall");
  }
  if (obj.metadata.generation !== status.observedGeneration) {
    markReconciling(obj, Reason.Progressing, `processing object: new generation ${status.observedGeneration ?? -1} -> ${obj.metadata.generation}`);
  }
  let repo: ImageRepository | undefined;
  try { repo = await imageRepository(obj, ctx); } catch (e) {
    if (e instanceof AccessDenied) return fail(ImageReason.AccessDenied, `failed to get the referred ImageRepository: ${e.message}`, "retry");
    throw e;
  }
  if (!repo) {
    const name = obj.spec.imageRepositoryRef.name;
    return fail(ImageReason.DependencyNotReady, `failed to get the referred ImageRepository: referenced ImageRepository does not exist: imagerepositories.image.toolkit.fluxcd.io "${name}" not found`, "retry");
  }
  let ref;
  try { ref = parseImage(repo.spec.image); } catch (e) {
    if (e instanceof ImageRefError) return fail(ImageReason.ImageURLInvalid, e.message, "stall");
    throw e;
  }
  let latest: string;
  try {
    const policer = policerFromSpec(obj.spec.policy);
    const filter = obj.spec.filterTags ? filterTags([], obj.spec.filterTags.pattern, obj.spec.filterTags.extract) : undefined;
    void filter; // validates the pattern before any tags are read
    const tags = deps.store.tags({ namespace: repo.metadata.namespace!, name: repo.metadata.name!, canonicalName: repo.status?.canonicalImageName ?? ref.canonical });
    if (tags.length === 0) {
      const after = deps.requeueDependencyMs ?? 30_000;
      return fail(ImageReason.DependencyNotReady, `retrying in ${Math.round(after / 1000)}s error: no tags in database`, Result.requeueAfter(after));
    }
    if (obj.spec.filterTags) {
      const m = filterTags(tags, obj.spec.filterTags.pattern, obj.spec.filterTags.extract);
      latest = m.get(policer([...m.keys()]))!;
    } else latest = policer(tags);
  } catch (e) {
    if (e instanceof InvalidPolicyError) return fail(ImageReason.InvalidPolicy, e.message, "stall");
    return fail(ImageReason.Failure, (e as Error).message, "retry");
  }
  const next: LatestRef = { name: repo.spec.image, tag: latest };
  const cur = status.latestRef;
  const fetch = reflect === "Always" || (reflect === "IfNotPresent" && (!cur || cur.name !== next.name || cur.tag !== next.tag || !cur.digest));
  if (reflect === "IfNotPresent" && !fetch) next.digest = cur!.digest;
  if (fetch) {
    try {
      const oci = await repositoryClient(repo, ref, ctx);
      next.digest = await oci.resolveTag(latest);
    } catch (e) {
      const why = e instanceof SecretError ? `failed to configure authentication options: ${e.message}` : `failed fetching descriptor for "${repo.spec.image}:${latest}": ${(e as Error).message}`;
      return fail(ImageReason.Failure, `failed fetching digest of ${repo.spec.image}:${latest}: ${why}`, "retry");
    }
  }
  if (!cur || cur.name !== next.name || cur.tag !== next.tag || (cur.digest ?? "") !== (next.digest ?? "")) {
    if (cur) status.observedPreviousRef = cur; else delete status.observedPreviousRef;
    status.latestRef = next;
  }
  const lr = status.latestRef!;
  let msg = `Latest image tag for ${lr.name} resolved to ${lr.tag}${lr.digest ? ` with digest ${lr.digest}` : ""}`;
  const prev = status.observedPreviousRef;
  if (prev && (prev.name !== lr.name || prev.tag !== lr.tag || (prev.digest ?? "") !== (lr.digest ?? ""))) {
    msg += ` (previously ${prev.name}:${prev.tag}${prev.digest ? `@${prev.digest}` : ""})`;
  }
  removeCondition(obj, CT.Stalled);
  removeCondition(obj, CT.Reconciling);
  markTrue(obj, CT.Ready, Reason.Succeeded, msg);
  if (wasReady?.status !== "True" || wasReady.message !== msg) void ctx.events.normal(obj, Reason.Succeeded, msg);
  return reflect === "Always" && obj.spec.interval ? Result.requeueAfter(parseDuration(obj.spec.interval)) : Result.done();
}
