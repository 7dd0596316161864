// Health assessment after apply: with spec.wait every applied object (not skipped ones),
// else the spec.healthChecks references, must become Current within spec.timeout; objects of
// a kind spec.healthCheckExprs covers get its CEL status, the others kstatus. The Healthy
// condition records the outcome; a recovery (or a changed new revision) is an event.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { KustomizationNames } from "../api/kustomize/v1/kustomization";
import { ConditionType as CT, Reason } from "../api/meta";
import { celStatusReader } from "../runtime/health";
import { isTrue, markFalse, markReconciling, markTrue, markUnknown, removeCondition } from "../runtime/conditions";
import { Action, ChangeSetEntry, ObjectRef, ResourceManager, Unstructured, groupOf } from "../runtime/ssa";
import { goDuration } from "./go-duration";

export class HealthCheckError extends Error {
  override readonly name = "HealthCheckError";
}

export interface HealthInput {
  obj: Kustomization;
  manager: ResourceManager;
  changeSet: ChangeSetEntry[];
  objects: Unstructured[];
  revision: string;
  timeoutMs: number;
  /** Writes the progress to status before waiting. */
  progress: () => Promise<void>;
  /** Reports a recovery or a healthy new revision. */
  event: (message: string) => void;
  isNewRevision: boolean;
  drifted: boolean;
  signal?: AbortSignal;
}

export async function checkHealth(h: HealthInput): Promise<void> {
  const { obj } = h;
  if (!obj.spec.wait && !obj.spec.healthChecks?.length) {
    removeCondition(obj, CT.Healthy);
    return;
  }
  let refs: ObjectRef[] = obj.spec.wait
    ? h.changeSet.filter((e) => e.action !== Action.Skipped).map((e) => ({ ...e.id, apiVersion: e.apiVersion }))
    : (obj.spec.healthChecks ?? []).map((c) => {
      const apiVersion = c.apiVersion || "apps/v1";
      return { apiVersion, group: groupOf(apiVersion), kind: c.kind, name: c.name, namespace: c.namespace ?? obj.metadata.namespace ?? "" };
    });
  // Never wait on ourselves.
  refs = refs.filter((r) => !(r.kind === KustomizationNames.kind && r.name === obj.metadata.name && r.namespace === obj.metadata.namespace));
  if (refs.length === 0) {
    removeCondition(obj, CT.Healthy);
    return;
  }
  const started = Date.now();
  const wasHealthy = isTrue(obj, CT.Healthy);
  const message = `Running health checks for revision ${h.revision} with a timeout of ${goDuration(h.timeoutMs)}`;
  markReconciling(obj, Reason.Progressing, message);
  markUnknown(obj, CT.Healthy, Reason.Progressing, message);
  await h.progress();
  const jobsWithTtl = new Set(h.objects.filter((o) => o.kind === "Job" && groupOf(o.apiVersion) === "batch"
    && (o.spec as { ttlSecondsAfterFinished?: number } | undefined)?.ttlSecondsAfterFinished !== undefined)
    .map((o) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name}`));
  try {
    await h.manager.waitForSet(refs, {
      timeoutMs: h.timeoutMs, intervalMs: 2000, signal: h.signal,
      mayVanish: (r) => r.kind === "Job" && jobsWithTtl.has(`${r.namespace}/${r.name}`),
      // Compiled before (the reconciler stalls on an invalid entry), so this does not throw.
      statusReader: celStatusReader(obj.spec.healthCheckExprs ?? []),
    });
  } catch (e) {
    if (h.signal?.aborted) throw e;
    const msg = (e as Error).message;
    markFalse(obj, CT.Ready, Reason.HealthCheckFailed, msg);
    markFalse(obj, CT.Healthy, Reason.HealthCheckFailed, msg);
    throw new HealthCheckError(`health check failed after ${goDuration(Date.now() - started)}: ${msg}`, { cause: e });
  }
  const passed = `Health check passed in ${goDuration(Date.now() - started)}`;
  if (!wasHealthy || (h.isNewRevision && h.drifted)) h.event(passed);
  markTrue(obj, CT.Healthy, Reason.Succeeded, passed);
}
