// Deletion of a Kustomization: per spec.deletionPolicy (MirrorPrune follows spec.prune;
// Delete; WaitForTermination also waits, up to spec.timeout; Orphan), delete the objects in
// the inventory with the same identity that applied them. A suspended Kustomization, or one
// whose impersonated ServiceAccount is gone, leaves its objects (and says so).
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { DeletionPolicy } from "../api/kustomize/v1/kustomization";
import { FieldManager, KustomizePolicyAnnotation as Policy } from "../api/meta";
import { ReconcileContext } from "../runtime/controller";
import { Result } from "../runtime/result";
import { ResourceManager, formatChangeSet, formatObjMetadata, inventoryRefs } from "../runtime/ssa";
import type { KustomizeDeps } from "./deps";
import { ownerLabels, timeoutOf } from "./kustomization-apply";
import { recordEvent } from "./kustomization-status";

const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

function shouldDelete(obj: Kustomization): boolean {
  if (obj.spec.suspend || !obj.status?.inventory?.entries?.length) return false;
  switch (obj.spec.deletionPolicy ?? DeletionPolicy.MirrorPrune) {
    case DeletionPolicy.MirrorPrune: return obj.spec.prune;
    case DeletionPolicy.Delete:
    case DeletionPolicy.WaitForTermination: return true;
    default: return false;
  }
}

export async function finalizeKustomization(obj: Kustomization, ctx: ReconcileContext<Kustomization>, deps: KustomizeDeps): Promise<Result> {
  if (!shouldDelete(obj)) return Result.done();
  const st = obj.status!;
  const refs = inventoryRefs(st.inventory);
  const sa = deps.clients.serviceAccountOf(obj);
  if (sa && !obj.spec.kubeConfig && !(await ctx.client.get(serviceAccounts, { namespace: obj.metadata.namespace!, name: sa }, { signal: ctx.signal }))) {
    const msg = `unable to prune objects: \n${refs.map(formatObjMetadata).join("\n")}`;
    ctx.log.error({ error: "skiping pruning, failed to find account to impersonate" }, msg);
    recordEvent(deps.events, obj, "error", msg, st.lastAppliedRevision, st.lastAppliedOriginRevision);
    return Result.done();
  }
  const target = await deps.clients.forKustomization(obj, ctx.client, ctx.signal);
  const manager = new ResourceManager({
    client: target.client, mapper: target.mapper, fieldManager: FieldManager.Kustomize,
    concurrency: deps.concurrentSsa, ownerLabels: ownerLabels(obj), log: ctx.log,
  });
  let deleted;
  try {
    deleted = await manager.deleteAll(refs, {
      propagationPolicy: "Background", signal: ctx.signal,
      exclusions: { [Policy.Prune]: "disabled", [Policy.Reconcile]: "disabled", [Policy.Ssa]: "Ignore" },
    });
  } catch (e) {
    recordEvent(deps.events, obj, "error", "pruning for deleted resource failed", st.lastAppliedRevision, st.lastAppliedOriginRevision);
    return Result.retry(e);
  }
  if (deleted.length) {
    recordEvent(deps.events, obj, "info", formatChangeSet(deleted), st.lastAppliedRevision, st.lastAppliedOriginRevision);
    if (obj.spec.deletionPolicy === DeletionPolicy.WaitForTermination) {
      const gone = deleted.filter((d) => d.action === "deleted").map((d) => ({ ...d.id, apiVersion: d.apiVersion }));
      try {
        await manager.waitForTermination(gone, { timeoutMs: timeoutOf(obj), intervalMs: 1000, signal: ctx.signal });
      } catch (e) {
        ctx.log.error({ error: (e as Error).message }, "failed to wait for resources termination");
        recordEvent(deps.events, obj, "error", "failed to wait for resources termination", st.lastAppliedRevision, st.lastAppliedOriginRevision);
      }
    }
  }
  return Result.done();
}
