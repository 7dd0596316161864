// Adding and removing a finalizer with a merge patch guarded by resourceVersion, re-reading
// and retrying on conflict. The in-memory object is updated (finalizers, resourceVersion), so
// the status patch that follows in the same reconcile is not refused as stale.
import { KubeClient, ResourceRef } from "./kube";
import { isConflict, isNotFound } from "./kube-errors";
import { KubeObject, keyOf } from "./keys";

/** The finalizer every Flux controller puts on the objects it reconciles. */
export const FLUX_FINALIZER = "finalizers.fluxcd.io";

export interface FinalizerOptions {
  fieldManager?: string;
  maxRetries?: number;
  signal?: AbortSignal;
}

export function hasFinalizer(obj: KubeObject, finalizer: string = FLUX_FINALIZER): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

/** Whether the object is being deleted (deletionTimestamp set). */
export function isDeleting(obj: KubeObject): boolean {
  return Boolean(obj.metadata?.deletionTimestamp);
}

/** Adds `finalizer` unless present; true when a write happened. */
export function addFinalizer(client: KubeClient, res: ResourceRef, obj: KubeObject, finalizer: string = FLUX_FINALIZER,
  opts: FinalizerOptions = {}): Promise<boolean> {
  return updateFinalizers(client, res, obj, (list) => (list.includes(finalizer) ? undefined : [...list, finalizer]), opts);
}

/** Removes `finalizer` if present; true when a write happened. A vanished object is fine. */
export function removeFinalizer(client: KubeClient, res: ResourceRef, obj: KubeObject, finalizer: string = FLUX_FINALIZER,
  opts: FinalizerOptions = {}): Promise<boolean> {
  return updateFinalizers(client, res, obj, (list) => (list.includes(finalizer) ? list.filter((f) => f !== finalizer) : undefined), opts);
}

async function updateFinalizers(client: KubeClient, res: ResourceRef, obj: KubeObject,
  change: (current: string[]) => string[] | undefined, opts: FinalizerOptions): Promise<boolean> {
  const key = keyOf(obj);
  let current: KubeObject = obj;
  for (let attempt = 0; ; attempt++) {
    const next = change(current.metadata?.finalizers ?? []);
    if (!next) {
      syncMeta(obj, current);
      return false;
    }
    try {
      const written = await client.patch(res, key,
        { metadata: { resourceVersion: current.metadata?.resourceVersion, finalizers: next.length ? next : null } },
        { fieldManager: opts.fieldManager, signal: opts.signal });
      syncMeta(obj, written);
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      if (!isConflict(e) || attempt >= (opts.maxRetries ?? 5)) {
        throw new Error(`updating the finalizers of ${res.kind ?? res.plural} ${key.namespace}/${key.name}: ${(e as Error).message}`, { cause: e });
      }
      const fresh = await client.get(res, key, { signal: opts.signal });
      if (!fresh) return false;
      current = fresh;
    }
  }
}

function syncMeta(target: KubeObject, source: KubeObject): void {
  if (target === source || !target.metadata) return;
  target.metadata.resourceVersion = source.metadata?.resourceVersion;
  if (source.metadata?.finalizers?.length) target.metadata.finalizers = [...source.metadata.finalizers];
  else delete target.metadata.finalizers;
}
