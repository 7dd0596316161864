// The fixed order of a reconcile, once for every kind: get (gone means done), snapshot,
// deletion with finalizer, add finalizer, suspend, the kind's own steps, and in all cases one
// status patch at the end (lastHandledReconcileAt; observedGeneration only on success, and
// for a suspended object only when it is Ready).
import { ConditionType, isTrue } from "./conditions";
import { ReconcileContext } from "./controller";
import { FLUX_FINALIZER, addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "./finalizers";
import { deepClone } from "./json-merge";
import { KubeObject, ObjectKey } from "./keys";
import { Result, isSuccess } from "./result";
import { isSuspended, markReconcileRequestHandled } from "./reconcile-steps";
import { patchStatus } from "./status-patch";

export type StatusObject = KubeObject & { status?: Record<string, unknown> & { observedGeneration?: number } };

export interface ObjectReconciler<T extends StatusObject> {
  /** Default `finalizers.fluxcd.io`; null for kinds that keep no finalizer. */
  finalizer?: string | null;
  /** Field manager of status and finalizer writes (per controller). */
  fieldManager?: string;
  /** The kind's steps. Mutates `obj.status` through the condition helpers. */
  reconcile: (obj: T, ctx: ReconcileContext<T>) => Promise<Result>;
  /** Clean-up on deletion; the finalizer is removed only after a success. */
  finalize?: (obj: T, ctx: ReconcileContext<T>) => Promise<Result>;
}

/**
 * The object from the watch cache once the cache holds our own last write of it (as
 * controller-runtime's cached reads, but never older than what we wrote); else, or when the
 * cache has no such object, from the API server. A cached copy that another writer has since
 * overtaken only costs a 409 on the status patch (it carries the resourceVersion), then a GET.
 */
export async function readPrimary<T extends KubeObject>(key: ObjectKey, ctx: ReconcileContext<T>): Promise<T | undefined> {
  const cached = ctx.cache.get(key);
  if (cached && caughtUp(cached.metadata?.resourceVersion, ctx.client.lastWrittenVersion(ctx.kind, key))) return deepClone(cached);
  const obj = await ctx.client.get<T>(ctx.kind, key, { signal: ctx.signal });
  if (!obj) ctx.client.forgetWrites(ctx.kind, key);
  return obj;
}

/**
 * Whether a cached resourceVersion is at or after `written`. resourceVersions are opaque to
 * clients, but the API server's are etcd revisions (integers, increasing); anything else must match.
 */
export function caughtUp(cached: string | undefined, written: string | undefined): boolean {
  if (written === undefined) return true;
  if (cached === undefined) return false;
  if (/^\d+$/.test(cached) && /^\d+$/.test(written)) return BigInt(cached) >= BigInt(written);
  return cached === written;
}

/** Runs `steps` for the object at `key` in the standard order. */
export async function reconcileObject<T extends StatusObject>(key: ObjectKey, ctx: ReconcileContext<T>,
  steps: ObjectReconciler<T>): Promise<Result> {
  const res = ctx.kind;
  const obj = await readPrimary(key, ctx);
  if (!obj) return Result.done();
  const before = deepClone(obj);
  const finalizer = steps.finalizer === undefined ? FLUX_FINALIZER : steps.finalizer;
  const fin = { fieldManager: steps.fieldManager, signal: ctx.signal };
  const labels = { kind: res.kind, name: key.name, namespace: key.namespace };

  if (isDeleting(obj)) {
    if (!finalizer || !hasFinalizer(obj, finalizer)) return Result.done();
    const result = steps.finalize ? await steps.finalize(obj, ctx) : Result.done();
    if (!isSuccess(result)) return finish(result);
    await removeFinalizer(ctx.client, res, obj, finalizer, fin);
    ctx.metrics.suspendStatus.remove(labels);
    ctx.log.info("finalizer removed");
    return Result.done();
  }

  let result: Result = Result.done();
  let thrown: unknown;
  try {
    if (finalizer && !hasFinalizer(obj, finalizer)) await addFinalizer(ctx.client, res, obj, finalizer, fin);
    if (isSuspended(obj)) {
      ctx.metrics.suspendStatus.set(labels, 1);
      ctx.log.info("reconciliation is suspended for this object");
      // As Flux: none of the kind's steps, but the status patch still records a handled
      // reconcile request, and the observed generation when the object is Ready (kstatus then
      // sees it as current; a suspended failure stays visibly not caught up).
      return await finish(Result.done(), undefined, isTrue(obj, ConditionType.Ready));
    }
    ctx.metrics.suspendStatus.set(labels, 0);
    result = await steps.reconcile(obj, ctx);
  } catch (e) {
    thrown = e;
  }
  return finish(result, thrown);

  async function finish(r: Result, error?: unknown, observe = true): Promise<Result> {
    markReconcileRequestHandled(obj!);
    if (observe && error === undefined && isSuccess(r) && obj!.metadata?.generation !== undefined) {
      (obj!.status ??= {}).observedGeneration = obj!.metadata.generation;
    }
    try {
      await patchStatus(ctx.client, res, before, obj!, { fieldManager: steps.fieldManager, signal: ctx.signal });
    } catch (e) {
      ctx.log.error({ error: e }, "status patch failed");
      if (error === undefined && isSuccess(r)) r = Result.retry(e);
    }
    if (error !== undefined) throw error;
    return r;
  }
}
