// One revision of a Kustomization, in Flux's order: fetch the artifact, build, apply (dry-run
// first), record the inventory, prune what left it, run health checks, mark Ready. Each
// failure sets Ready=False with its reason and is thrown as a StepFailure; nothing is
// pruned after a failed build or apply.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { ConditionType as CT, FieldManager, KustomizePolicyAnnotation as Policy, Label, Reason } from "../api/meta";
import { markFalse, markReconciling, markTrue, markUnknown, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { parseDuration } from "../runtime/duration";
import {
  Action, ApplyError, ChangeSetEntry, inventoryId, DeleteError, ResourceManager, Unstructured, changeSetMap, formatChangeSet, formatObject,
  hasChanged, inventoryDiff, inventoryFromChangeSet, inventoryMerge, normalizeObject, setAnnotations, setLabels,
} from "../runtime/ssa";
import { ArtifactNotFoundError } from "../runtime/artifact-fetcher";
import { isDir, isInside, join } from "./file-tree";
import { goDuration } from "./go-duration";
import { checkHealth } from "./kustomization-health";
import { ProgressWriter, manifestDigest, recordEvent, upsertHistory } from "./kustomization-status";
import { hasRevision } from "./dependencies";
import { buildManifests } from "./manifests";
import { isEncrypted, decryptionDisabled } from "./sops";
import type { KustomizeDeps } from "./deps";
import type { SourceArtifact } from "./source";

export class StepFailure extends Error {
  override readonly name = "StepFailure";
  constructor(readonly reason: string, message: string, options?: ErrorOptions) { super(message, options); }
}

export const ownerLabels = (obj: Kustomization): Record<string, string> => ({
  [Label.KustomizeName]: obj.metadata.name!, [Label.KustomizeNamespace]: obj.metadata.namespace!,
});

export const timeoutOf = (obj: Kustomization): number => parseDuration(obj.spec.timeout ?? obj.spec.interval);

export async function applyRevision(obj: Kustomization, artifact: SourceArtifact, ctx: ReconcileContext<Kustomization>, deps: KustomizeDeps, progress: ProgressWriter): Promise<void> {
  const started = Date.now();
  const status = (obj.status ??= {});
  const revision = artifact.revision;
  const origin = artifact.metadata?.["org.opencontainers.image.revision"];
  const timeoutMs = timeoutOf(obj);
  const within = (what: string) => `${what} for revision ${revision} with a timeout of ${goDuration(timeoutMs)}`;
  const fail = (reason: string, e: unknown): never => {
    const msg = (e as Error).message;
    markFalse(obj, CT.Ready, reason, msg);
    throw new StepFailure(reason, msg, { cause: e });
  };
  markUnknown(obj, CT.Ready, Reason.Progressing, "Reconciliation in progress");
  // Reconciling and Stalled exclude each other (kstatus).
  removeCondition(obj, CT.Stalled);
  markReconciling(obj, Reason.Progressing, within("Fetching manifests"));
  const oldInventory = status.inventory;

  let files;
  try {
    files = await deps.fetcher.fetch(artifact, ctx.signal);
  } catch (e) {
    if (e instanceof ArtifactNotFoundError) throw e;
    return fail(Reason.ArtifactFailed, e);
  }
  const dir = join("", obj.spec.path ?? "");
  if (!isInside(dir) || !isDir(files, dir)) return fail(Reason.ArtifactFailed, new Error(`kustomization path not found: stat ${obj.spec.path ?? ""}: no such file or directory`));

  status.lastAttemptedRevision = revision;
  markReconciling(obj, Reason.Progressing, within("Building manifests"));
  let target;
  try {
    target = await deps.clients.forKustomization(obj, ctx.client, ctx.signal);
  } catch (e) {
    return fail(Reason.ReconciliationFailed, e);
  }
  let objects: Unstructured[];
  try {
    objects = await buildManifests(obj, files, dir, {
      client: ctx.client, kustomize: deps.kustomize, sops: deps.sops, timeoutMs, tmpRoot: deps.tmpRoot,
      strictSubstitutions: deps.strictSubstitutions, plainBuildInProcess: deps.plainBuildInProcess, signal: ctx.signal,
      noRemoteBases: deps.noRemoteBases,
    });
  } catch (e) {
    return fail(Reason.BuildFailed, e);
  }
  const digest = manifestDigest(objects);
  const historyMeta: Record<string, string> = { revision, ...(origin ? { originRevision: origin } : {}) };
  const failWithHistory = (reason: string, e: unknown): never => {
    upsertHistory(obj, digest, started, reason, historyMeta);
    return fail(reason, e);
  };

  markReconciling(obj, Reason.Progressing, within("Detecting drift"));
  const manager = new ResourceManager({
    client: target.client, mapper: target.mapper, fieldManager: FieldManager.Kustomize,
    concurrency: deps.concurrentSsa, ownerLabels: ownerLabels(obj), log: ctx.log, memo: target.memo,
  });
  let changeSet: ChangeSetEntry[];
  try {
    changeSet = await apply(obj, manager, objects, timeoutMs, ctx.signal);
  } catch (e) {
    return failWithHistory(Reason.ReconciliationFailed, e);
  }
  const applyLog = formatChangeSet(changeSet, true);
  if (changeSet.length) ctx.log.info({ output: changeSetMap(changeSet), revision }, "server-side apply completed");
  if (applyLog) recordEvent(deps.events, obj, "info", applyLog, revision, origin);

  const newInventory = inventoryFromChangeSet(changeSet);
  status.inventory = newInventory;
  const stale = inventoryDiff(oldInventory, newInventory);
  if (obj.spec.prune && stale.length) {
    try {
      const pruned = await manager.deleteAll(stale, { propagationPolicy: "Background", signal: ctx.signal, exclusions: pruneExclusions });
      ctx.log.info(`garbage collection completed: ${formatChangeSet(pruned)}`);
      recordEvent(deps.events, obj, "info", formatChangeSet(pruned), revision, origin);
    } catch (e) {
      if (e instanceof DeleteError) {
        // Objects whose delete was not confirmed stay in the inventory, so the next run retries them.
        const settled = new Set(e.changeSet.filter((c) => c.action === Action.Deleted || c.action === Action.Skipped).map((c) => inventoryId(c.id)));
        inventoryMerge(newInventory, stale.filter((r) => !settled.has(inventoryId(r))));
      }
      return failWithHistory(Reason.PruneFailed, e);
    }
  }

  try {
    await checkHealth({
      obj, manager, changeSet, objects, revision, timeoutMs, signal: ctx.signal,
      isNewRevision: !hasRevision(revision, status.lastAppliedRevision), drifted: applyLog !== "",
      progress: () => progress.write(obj),
      event: (m) => recordEvent(deps.events, obj, "info", m, revision, origin),
    });
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    return failWithHistory(Reason.HealthCheckFailed, e);
  }
  status.lastAppliedRevision = revision;
  if (origin) status.lastAppliedOriginRevision = origin;
  markTrue(obj, CT.Ready, Reason.ReconciliationSucceeded, `Applied revision: ${revision}`);
  upsertHistory(obj, digest, started, Reason.ReconciliationSucceeded, historyMeta);
}

const pruneExclusions = { [Policy.Prune]: "disabled", [Policy.Reconcile]: "disabled", [Policy.Ssa]: "Ignore" };

/** Normalizes and labels the objects, refuses undecrypted secrets, applies the set. */
async function apply(obj: Kustomization, manager: ResourceManager, objects: Unstructured[], timeoutMs: number, signal: AbortSignal): Promise<ChangeSetEntry[]> {
  for (const o of objects) normalizeObject(o);
  const common = obj.spec.commonMetadata;
  if (common?.labels) setLabels(objects, common.labels);
  if (common?.annotations) setAnnotations(objects, common.annotations);
  setLabels(objects, ownerLabels(obj));
  for (const o of objects) {
    if (o.kind === "Secret" && o.apiVersion === "v1" && isEncrypted(o) && !decryptionDisabled(o)) {
      throw new Error(`${formatObject(o)} is SOPS encrypted, configuring decryption is required for this secret to be reconciled`);
    }
  }
  if (objects.length === 0) return [];
  try {
    return await manager.applyAllStaged(objects, {
      force: obj.spec.force ?? false,
      forceSelector: { [Policy.Force]: "Enabled" },
      exclusionSelector: { [Policy.Reconcile]: "disabled", [Policy.Ssa]: "Ignore" },
      ifNotPresentSelector: { [Policy.Ssa]: "IfNotPresent" },
      cleanupExclusions: { [Policy.Ssa]: "Merge" },
      waitTimeoutMs: Math.min(timeoutMs, 60_000),
      signal,
    });
  } catch (e) {
    // Flux appends what the failed attempt already changed, one line per object.
    const done = e instanceof ApplyError ? e.changeSet.filter((c) => hasChanged(c.action)).map((c) => `${c.subject} ${c.action}\n`).join("") : "";
    throw new Error(`${(e as Error).message}\n${done}`, { cause: e });
  }
}
