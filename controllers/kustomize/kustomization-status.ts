// Status bookkeeping of a Kustomization as Flux writes it: events (reason = the Ready
// reason, revision annotation), the closing condition rules, status.history, and
// mid-reconcile progress writes before long health checks.
import { createHash } from "node:crypto";
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { ConditionType as CT, Reason } from "../api/meta";
import { getCondition, isFalse, isTrue, metaTime, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { EventRecorder } from "../runtime/events";
import { deepClone } from "../runtime/json-merge";
import { patchStatus } from "../runtime/status-patch";
import { FieldManager } from "../api/meta";
import { goDuration } from "./go-duration";

export const REVISION_ANNOTATION = "kustomize.toolkit.fluxcd.io/revision";
export const ORIGIN_REVISION_ANNOTATION = "kustomize.toolkit.fluxcd.io/originRevision";

/**
 * Records an event the way Flux's kustomize-controller does. Not awaited: the write happens
 * in the background (the recorder never throws), so events do not lengthen reconciles.
 */
export const COMMIT_STATUS_ANNOTATION = "kustomize.toolkit.fluxcd.io/commit_status";

export function recordEvent(events: EventRecorder, obj: Kustomization, severity: "info" | "error", message: string, revision?: string, originRevision?: string, extra: Record<string, string> = {}): void {
  const annotations: Record<string, string> = { ...extra };
  if (revision) annotations[REVISION_ANNOTATION] = revision;
  if (originRevision) annotations[ORIGIN_REVISION_ANNOTATION] = originRevision;
  const reason = getCondition(obj, CT.Ready)?.reason || severity;
  const involved = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { ...obj.metadata } };
  void (severity === "error" ? events.warning(involved, reason, message, annotations) : events.normal(involved, reason, message, annotations));
}

/** The closing rules: success clears Reconciling and Stalled; a failure while reconciling is a retry. */
export function finalizeConditions(obj: Kustomization): void {
  if (isTrue(obj, CT.Ready)) {
    removeCondition(obj, CT.Reconciling);
    removeCondition(obj, CT.Stalled);
  } else if (isFalse(obj, CT.Ready)) {
    const rc = getCondition(obj, CT.Reconciling);
    if (rc) rc.reason = Reason.ProgressingWithRetry;
  }
}

/** Digest of what was built, for status.history. */
export function manifestDigest(objects: unknown[]): string {
  return `sha256:${createHash("sha256").update(JSON.stringify(objects)).digest("hex")}`;
}

/** Flux's History.Upsert: bump a matching digest+status entry to the front, else prepend; keep 5. */
export function upsertHistory(obj: Kustomization, digest: string, startedMs: number, status: string, metadata: Record<string, string>): void {
  const st = (obj.status ??= {});
  const history = (st.history ??= []);
  const now = metaTime(new Date());
  const duration = goDuration(Date.now() - startedMs);
  const i = history.findIndex((h) => h.digest === digest && h.lastReconciledStatus === status);
  if (i >= 0) {
    const h = history[i];
    h.lastReconciled = now;
    h.lastReconciledDuration = duration;
    h.totalReconciliations += 1;
    h.metadata = metadata;
    history.splice(i, 1);
    history.unshift(h);
  } else {
    history.unshift({ digest, firstReconciled: now, lastReconciled: now, lastReconciledDuration: duration, lastReconciledStatus: status, totalReconciliations: 1, metadata });
  }
  history.length = Math.min(history.length, 5);
}

/**
 * Status writes in the middle of a reconcile (before waiting on health checks), so watchers
 * see Reconciling. `flush` writes the final state when a progress write happened, because
 * the closing patch of reconcileObject diffs against the object as first read.
 */
export class ProgressWriter {
  #written: Kustomization;
  #dirty = false;
  constructor(obj: Kustomization, private readonly ctx: ReconcileContext<Kustomization>) { this.#written = deepClone(obj); }

  async write(obj: Kustomization): Promise<void> {
    await patchStatus(this.ctx.client, this.ctx.kind, this.#written, obj, { fieldManager: FieldManager.KustomizeStatus, signal: this.ctx.signal });
    this.#written = deepClone(obj);
    this.#dirty = true;
  }

  async flush(obj: Kustomization): Promise<void> {
    if (this.#dirty) await this.write(obj);
  }
}
