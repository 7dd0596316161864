// How the OCIRepository, HelmRepository, HelmChart and Bucket reconcilers turn the outcome of their
// steps into Flux's conditions: Reconciling on a new generation or a lost artifact; on success
// ArtifactInStorage + Ready with the kind's reason and message, an event for a new artifact and
// a requeue at spec.interval; on failure the failure's condition, Ready=False with the same
// reason and message, a Warning event, and either Stalled (terminal) or a retry. The last good
// artifact is never touched here.
import { Artifact, ConditionType as CT, Reason } from "../api/meta";
import { jittered } from "../runtime/backoff";
import { Condition, markFalse, markReconciling, markStalled, markTrue, markUnknown, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { parseDuration } from "../runtime/duration";
import { KubeObject } from "../runtime/keys";
import { Result } from "../runtime/result";
import { Storage, StorageError } from "../runtime/artifact-storage";

/** A failure with the condition it belongs to. Stalled ones need a spec change, not a retry. */
export class SourceFailure extends Error {
  constructor(readonly condition: string, readonly reason: string, message: string, readonly stalled = false, options?: ErrorOptions) {
    super(message, options);
  }
}

export interface SourceSuccess {
  /** Reason and message of Ready and ArtifactInStorage. */
  reason: string;
  message: string;
  /** Set when a new artifact was stored: the Normal event to record. */
  event?: { reason: string; message: string };
  /** False for objects that are not polled (OCI HelmRepository). */
  requeue?: boolean;
}

export type SourceObject = KubeObject & {
  metadata: { generation?: number; namespace?: string; name?: string };
  spec: { interval?: string };
  status?: { artifact?: Artifact; observedGeneration?: number; conditions?: Condition[]; [k: string]: unknown };
};

const REVISION_ANNOTATION = "source.toolkit.fluxcd.io/revision";
const DIGEST_ANNOTATION = "source.toolkit.fluxcd.io/digest";

export interface SourceStepsOptions {
  storage: Storage;
  /** The kind's negative-polarity failure conditions, cleared on success. */
  failureConditions: string[];
  defaultInterval?: string;
}

/** Runs `produce` and records its outcome on `obj.status` the way Flux's source-controller does. */
export async function reconcileSource<T extends SourceObject>(obj: T, ctx: ReconcileContext<T>, opts: SourceStepsOptions,
  produce: () => Promise<SourceSuccess>): Promise<Result> {
  const status = (obj.status ??= {});
  const gen = obj.metadata.generation ?? 0;
  if (status.observedGeneration !== gen) markReconciling(obj, Reason.Progressing, `processing object: new generation ${status.observedGeneration ?? -1} -> ${gen}`);
  if (status.artifact && !opts.storage.exists(status.artifact)) {
    markReconciling(obj, Reason.Progressing, "building artifact: disappeared from storage");
    removeCondition(obj, CT.ArtifactInStorage);
  }
  try {
    const ok = await produce();
    for (const t of [...opts.failureConditions, CT.ArtifactOutdated, CT.Reconciling, CT.Stalled]) removeCondition(obj, t);
    if (status.artifact) markTrue(obj, CT.ArtifactInStorage, ok.reason, ok.message);
    else removeCondition(obj, CT.ArtifactInStorage);
    markTrue(obj, CT.Ready, ok.reason, ok.message);
    status.observedGeneration = gen;
    if (ok.event && status.artifact) {
      await ctx.events.normal(obj, ok.event.reason, ok.event.message,
        { [REVISION_ANNOTATION]: status.artifact.revision, [DIGEST_ANNOTATION]: status.artifact.digest });
    }
    if (ok.requeue === false) return Result.done();
    const interval = parseDuration(obj.spec.interval ?? opts.defaultInterval ?? "1m");
    return Result.requeueAfter(jittered(interval, ctx.intervalJitter));
  } catch (err) {
    const f = asFailure(err);
    // SourceVerified has positive polarity (False on failure); the others are abnormal-true.
    if (f.condition === CT.SourceVerified) markFalse(obj, f.condition, f.reason, f.message);
    else markTrue(obj, f.condition, f.reason, f.message);
    markFalse(obj, CT.Ready, f.reason, f.message);
    await ctx.events.warning(obj, f.reason, f.message);
    if (f.stalled) {
      markStalled(obj, f.reason, f.message);
      removeCondition(obj, CT.Reconciling);
      status.observedGeneration = gen;
      return Result.terminal(f);
    }
    markReconciling(obj, Reason.ProgressingWithRetry, f.message);
    return Result.retry(f);
  }
}

function asFailure(err: unknown): SourceFailure {
  if (err instanceof SourceFailure) return err;
  if (err instanceof StorageError) return new SourceFailure(CT.StorageOperationFailed, Reason.ArchiveOperationFailed, `unable to archive artifact to storage: ${err.message}`, false, { cause: err });
  return new SourceFailure(CT.FetchFailed, Reason.Failed, (err as Error)?.message ?? String(err), false, { cause: err });
}

/** ArtifactOutdated + Ready=Unknown while a new revision is being built (only when one exists). */
export function markOutdated(obj: SourceObject, reason: string, message: string): void {
  if (obj.status?.artifact) markTrue(obj, CT.ArtifactOutdated, reason, message);
  markReconciling(obj, Reason.Progressing, `building artifact: ${message}`);
  markUnknown(obj, CT.Ready, Reason.Progressing, `building artifact: ${message}`);
}
