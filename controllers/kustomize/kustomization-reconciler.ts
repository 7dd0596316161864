// Kustomization reconciler: the fixed order of reconcileObject (get, finalizer, suspend,
// status patch), then Flux's script: configuration checks, source, dependencies, the
// revision itself (kustomization-apply.ts), and the outcome mapped to a requeue.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { ConditionType as CT, FieldManager, Reason } from "../api/meta";
import { isTrue, markFalse, markStalled, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { DependencyNotReadyError, InvalidReadyExprError } from "../runtime/dependencies";
import { parseDuration } from "../runtime/duration";
import { InvalidHealthCheckError, celStatusReader } from "../runtime/health";
import { ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { markReconcileRequestHandled, requeueAtInterval } from "../runtime/reconcile-steps";
import { Result, isSuccess } from "../runtime/result";
import { ArtifactNotFoundError } from "../runtime/artifact-fetcher";
import { checkDependencies } from "./dependencies";
import type { KustomizeDeps } from "./deps";
import { goDuration } from "./go-duration";
import { StepFailure, applyRevision } from "./kustomization-apply";
import { finalizeKustomization } from "./kustomization-finalizer";
import { COMMIT_STATUS_ANNOTATION, ProgressWriter, finalizeConditions, recordEvent } from "./kustomization-status";
import { AccessDeniedError, SourceNotFoundError, getSource, sourceRefString } from "./source";

const TERMINAL = "Reconciliation failed terminally due to configuration error";

export function reconcileKustomization(deps: KustomizeDeps) {
  return (key: ObjectKey, ctx: ReconcileContext<Kustomization>): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<Kustomization & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.KustomizeStatus,
      finalize: (obj) => finalizeKustomization(obj as Kustomization, ctx, deps),
      reconcile: async (o) => {
        const obj = o as Kustomization;
        const progress = new ProgressWriter(obj, ctx);
        const started = Date.now();
        const result = await steps(obj, ctx, deps, progress, started);
        finalizeConditions(obj);
        // What reconcileObject adds at the end, so a progress flush never shows Ready=True
        // with a stale observedGeneration.
        markReconcileRequestHandled(obj);
        if (isSuccess(result) && obj.metadata.generation !== undefined) (obj.status ??= {}).observedGeneration = obj.metadata.generation;
        await progress.flush(obj);
        if (isTrue(obj, CT.Ready)) {
          const msg = `Reconciliation finished in ${goDuration(Date.now() - started)}, next run in ${goDuration(parseDuration(obj.spec.interval))}`;
          ctx.log.info({ revision: obj.status?.lastAttemptedRevision }, msg);
          // As Flux: the success event is the commit status update git providers report.
          recordEvent(deps.events, obj, "info", msg, obj.status?.lastAppliedRevision, obj.status?.lastAppliedOriginRevision, { [COMMIT_STATUS_ANNOTATION]: "update" });
        }
        return result;
      },
    });
}

async function steps(obj: Kustomization, ctx: ReconcileContext<Kustomization>, deps: KustomizeDeps, progress: ProgressWriter, started: number): Promise<Result> {
  // The schema's pattern lets through durations longer than Go's (an `interval: 99999999999h`);
  // checked here, before anything throws on them outside the steps that report errors.
  let retryMs: number;
  try {
    for (const f of ["interval", "retryInterval", "timeout"] as const) {
      const v = obj.spec[f];
      if (v !== undefined) try { parseDuration(v); } catch (e) { throw new Error(`spec.${f}: ${(e as Error).message}`); }
    }
    retryMs = parseDuration(obj.spec.retryInterval ?? obj.spec.interval);
  } catch (e) {
    return stall(obj, deps, Reason.ReconciliationFailed, `${TERMINAL}: ${(e as Error).message}`);
  }
  const depMs = deps.requeueDependencyMs;
  try {
    celStatusReader(obj.spec.healthCheckExprs ?? []);
  } catch (e) {
    if (e instanceof InvalidHealthCheckError) return stall(obj, deps, Reason.InvalidCELExpression, `${TERMINAL}: ${e.message}`);
    throw e;
  }
  if (obj.spec.decryption?.serviceAccountName) {
    return stall(obj, deps, Reason.FeatureGateDisabled, "to use spec.decryption.serviceAccountName for decryption authentication please enable the ObjectLevelWorkloadIdentity feature gate in the controller");
  }

  let source;
  try {
    source = await getSource(obj, ctx.client, { noCrossNamespaceRefs: deps.noCrossNamespaceRefs, allowExternalArtifact: deps.allowExternalArtifact, cache: deps.sources, signal: ctx.signal });
  } catch (e) {
    const msg = (e as Error).message;
    if (e instanceof AccessDeniedError) return stall(obj, deps, "AccessDenied", msg);
    markFalse(obj, CT.Ready, Reason.ArtifactFailed, msg);
    if (e instanceof SourceNotFoundError) {
      ctx.log.info(`Source '${sourceRefString(obj)}' not found`);
      return notReady(obj, Result.requeueAfter(retryMs));
    }
    return notReady(obj, Result.retry(e));
  }
  const artifact = source.status?.artifact;
  if (!artifact) {
    const msg = `Source artifact not found, retrying in ${goDuration(depMs)}`;
    markFalse(obj, CT.Ready, Reason.ArtifactFailed, msg);
    ctx.log.info(msg);
    return notReady(obj, Result.requeueAfter(depMs));
  }
  const revision = artifact.revision;
  const origin = artifact.metadata?.["org.opencontainers.image.revision"];

  if (obj.spec.dependsOn?.length) {
    try {
      await checkDependencies(obj, revision, ctx.client, { signal: ctx.signal, additiveCel: deps.additiveCelDependencyCheck });
    } catch (e) {
      if (e instanceof InvalidReadyExprError) return stall(obj, deps, Reason.InvalidCELExpression, `${TERMINAL}: ${e.message}`, revision);
      if (!(e instanceof DependencyNotReadyError)) return notReady(obj, Result.retry(e));
      markFalse(obj, CT.Ready, Reason.DependencyNotReady, e.message);
      const msg = `Dependencies do not meet ready condition, retrying in ${goDuration(depMs)}`;
      ctx.log.info(msg);
      recordEvent(deps.events, obj, "info", msg, revision, origin);
      return notReady(obj, Result.requeueAfter(depMs));
    }
    ctx.log.info("All dependencies are ready, proceeding with reconciliation");
  }

  try {
    await applyRevision(obj, artifact, ctx, deps, progress);
  } catch (e) {
    if (e instanceof ArtifactNotFoundError) {
      const msg = `Source is not ready, artifact not found, retrying in ${goDuration(depMs)}`;
      markFalse(obj, CT.Ready, Reason.ArtifactFailed, msg);
      ctx.log.info(msg);
      return notReady(obj, Result.requeueAfter(depMs));
    }
    if (!(e instanceof StepFailure)) throw e;
    ctx.log.error({ error: e.message, revision }, `Reconciliation failed after ${goDuration(Date.now() - started)}, next try in ${goDuration(retryMs)}`);
    recordEvent(deps.events, obj, "error", e.message, revision, origin);
    return notReady(obj, Result.requeueAfter(retryMs));
  }
  return requeueAtInterval(obj.spec.interval, ctx.intervalJitter);
}

/** A configuration error: Ready=False and Stalled=True with the same reason; not retried. */
async function stall(obj: Kustomization, deps: KustomizeDeps, reason: string, message: string, revision?: string): Promise<Result> {
  markFalse(obj, CT.Ready, reason, message);
  removeCondition(obj, CT.Reconciling);
  markStalled(obj, reason, message);
  (obj.status ??= {}).observedGeneration = obj.metadata.generation;
  recordEvent(deps.events, obj, "error", message, revision);
  return Result.terminal(new Error(message));
}

/**
 * A requeue while not Ready. Flux leaves status.observedGeneration alone unless Ready (or
 * Stalled); reconcileObject stamps it on any requeue, so the in-memory generation is dropped
 * (only status is patched, so nothing else sees it).
 */
function notReady(obj: Kustomization, r: Result): Result {
  delete obj.metadata.generation;
  return r;
}
