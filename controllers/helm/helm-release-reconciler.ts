// HelmRelease reconciler: the fixed order of reconcileObject (get, finalizer, suspend, one
// status patch), then: chart source (HelmChart from spec.chart, or spec.chartRef), its
// artifact, values, and one Helm action (release-action.ts) mapped to conditions and a requeue.
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { HelmReleaseNames } from "../api/helm/v2/helm-release";
import { Annotation, ConditionType as CT, FieldManager, Reason } from "../api/meta";
import { getCondition, isTrue, markFalse, markReconciling, markStalled, markTrue, markUnknown, removeCondition } from "../runtime/conditions";
import { DependencyNotReadyError, InvalidReadyExprError, checkReadyDependencies, serviceAccountUser } from "../runtime/dependencies";
import { ReconcileContext } from "../runtime/controller";
import { formatGoDuration, parseDuration } from "../runtime/duration";
import { ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { requeueAtInterval } from "../runtime/reconcile-steps";
import { isSuccess, Result } from "../runtime/result";
import { ChartFetchError, ChartNotFoundError } from "./chart-fetcher";
import { ChartSourceNotReadyError, InvalidChartSourceError, applyHelmChart, chartSourceRefOf, readyChartSource, revisionDigestOf } from "./chart-source";

const AccessDeniedReason = "AccessDenied";
import type { HelmDeps } from "./deps";
import { finalizeHelmRelease } from "./helm-release-finalizer";
import { ChartMetadata, HelmError, HelmRun, showChart } from "./helm-cli";
import { HelmReason, RetriesExceededReason } from "./names";
import { ActionOutcome, releaseNameOf, runRelease } from "./release-action";
import { clearFailures } from "./remediation";
import { detectDrift, driftMode } from "./drift";
import { testsGateReady } from "./release-test";
import { ProgressWriter } from "./release-status";
import { RESTClientErrorReason, RemoteClusterError } from "./remote-cluster";
import { StorageNamespaceError } from "./storage-namespace";
import { healthReaderOf } from "./health-exprs";
import { InvalidHealthCheckError } from "../runtime/health";
import { ValuesError, composeValues } from "./values";

const helmReleaseResource = { group: HelmReleaseNames.group, version: HelmReleaseNames.version, plural: HelmReleaseNames.plural, kind: HelmReleaseNames.kind };

export function reconcileHelmRelease(deps: HelmDeps) {
  return (key: ObjectKey, ctx: ReconcileContext<HelmRelease>): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<HelmRelease & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Helm,
      finalize: (obj) => finalizeHelmRelease(obj as HelmRelease, ctx, deps),
      reconcile: async (o) => {
        const hr = o as HelmRelease;
        const progress = new ProgressWriter(hr, ctx);
        const result = await steps(hr, ctx, deps, progress);
        if (isTrue(hr, CT.Ready)) {
          removeCondition(hr, CT.Reconciling);
          removeCondition(hr, CT.Stalled);
          // In the same write as Ready: a reader must never see Ready=True for an older generation.
          if (isSuccess(result)) (hr.status ??= {}).observedGeneration = hr.metadata.generation;
        } else if (!isTrue(hr, CT.Stalled)) {
          const rc = getCondition(hr, CT.Reconciling);
          if (rc) rc.reason = Reason.ProgressingWithRetry;
        }
        await progress.flush(hr);
        return result;
      },
    });
}

async function steps(hr: HelmRelease, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps, progress: ProgressWriter): Promise<Result> {
  const interval = parseDuration(hr.spec.interval);
  if (hr.spec.dependsOn?.length) {
    try {
      await checkReadyDependencies(hr, hr.spec.dependsOn, helmReleaseResource, ctx.client, { signal: ctx.signal });
    } catch (e) {
      if (e instanceof InvalidReadyExprError) {
        return stall(hr, Reason.InvalidCELExpression, `Reconciliation failed terminally due to configuration error: ${e.message}`);
      }
      if (!(e instanceof DependencyNotReadyError)) throw e;
      markFalse(hr, CT.Ready, Reason.DependencyNotReady, e.message);
      ctx.log.info(`dependencies do not meet ready condition (${e.message}): retrying in ${deps.requeueDependencyMs / 1000}s`);
      await deps.events.normal(hr, Reason.DependencyNotReady, e.message);
      return notReady(hr, Result.requeueAfter(deps.requeueDependencyMs));
    }
    ctx.log.info("all dependencies are ready");
    if (getCondition(hr, CT.Ready)?.reason === Reason.DependencyNotReady) markUnknown(hr, CT.Ready, Reason.Progressing, "reconciliation in progress");
  }
  try {
    healthReaderOf(hr);
  } catch (e) {
    if (e instanceof InvalidHealthCheckError) return stall(hr, Reason.InvalidCELExpression, `Reconciliation failed terminally due to configuration error: ${e.message}`);
    throw e;
  }
  const sa = hr.spec.serviceAccountName || deps.defaultServiceAccount;
  const h: HelmRun = { deps, signal: ctx.signal, asUser: sa ? serviceAccountUser(hr.metadata.namespace!, sa) : undefined };
  let ref;
  try {
    ref = chartSourceRefOf(hr);
    if (ref.kind === "ExternalArtifact" && !deps.allowExternalArtifact) {
      const msg = `can't access '${ref.kind}/${ref.namespace}/${ref.name}', ExternalArtifact feature gate is disabled`;
      await deps.events.warning(hr, AccessDeniedReason, msg);
      return stall(hr, AccessDeniedReason, msg);
    }
    if (hr.spec.chart) {
      await applyHelmChart(hr, ctx.client, deps.noCrossNamespaceRefs, ctx.signal);
      (hr.status ??= {}).helmChart = `${ref.namespace}/${ref.name}`;
    }
  } catch (e) {
    if (e instanceof InvalidChartSourceError) return stall(hr, HelmReason.InvalidChartReference, e.message);
    throw e;
  }

  let artifact;
  try {
    ({ artifact } = await readyChartSource(ref, ctx.client, ctx.signal));
  } catch (e) {
    if (!(e instanceof ChartSourceNotReadyError)) throw e;
    markFalse(hr, CT.Ready, Reason.SourceNotReady, e.message);
    return notReady(hr, Result.requeueAfter(deps.requeueDependencyMs));
  }

  let values;
  try {
    values = await composeValues(hr, ctx.client, ctx.signal);
  } catch (e) {
    if (!(e instanceof ValuesError)) throw e;
    markFalse(hr, CT.Ready, HelmReason.InitFailed, e.message);
    return notReady(hr, Result.requeueAfter(interval));
  }

  let chartPath, chart;
  try {
    chartPath = await deps.fetcher.fetch(artifact, ctx.signal);
    chart = await showChart(deps, chartPath, ctx.signal);
  } catch (e) {
    if (!(e instanceof ChartFetchError || e instanceof ChartNotFoundError || e instanceof HelmError)) throw e;
    markFalse(hr, CT.Ready, Reason.ArtifactFailed, `could not load chart: ${e.message}`);
    return notReady(hr, Result.requeueAfter(deps.requeueDependencyMs));
  }

  // spec.kubeConfig: helm (and drift detection) run against the remote cluster; a kubeconfig
  // that cannot be read or used fails here, before anything is released or uninstalled.
  let remote;
  try {
    remote = await deps.remotes.forRelease(hr, ctx.client, h.asUser, ctx.signal);
  } catch (e) {
    if (!(e instanceof RemoteClusterError)) throw e;
    markFalse(hr, CT.Ready, RESTClientErrorReason, e.message);
    return notReady(hr, Result.retry(e));
  }
  if (getCondition(hr, CT.Ready)?.reason === RESTClientErrorReason) markUnknown(hr, CT.Ready, Reason.Progressing, "reconciliation in progress");
  if (remote) h.remote = remote;
  try {
    return await release(hr, ctx, deps, h, progress, { chartPath, chart, values, interval, revisionDigest: revisionDigestOf(ref.kind, artifact) });
  } finally {
    remote?.dispose();
  }
}

async function release(hr: HelmRelease, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps, h: HelmRun, progress: ProgressWriter,
  a: { chartPath: string; chart: ChartMetadata; values: Record<string, unknown>; interval: number; revisionDigest?: string }): Promise<Result> {
  const { chartPath, chart, values, interval, revisionDigest } = a;
  const namespace = hr.spec.targetNamespace || hr.metadata.namespace!;
  const storageNamespace = hr.spec.storageNamespace || hr.metadata.namespace!;
  // reconcile.fluxcd.io/resetAt: retries from zero (a Stalled release is attempted again).
  if (handleRequest(hr, Annotation.ResetRequestedAt, "lastHandledResetAt")) {
    ctx.log.info("resetting failure counters as requested");
    clearFailures(hr);
  }
  // reconcile.fluxcd.io/forceAt: one install or upgrade even when the release is in sync.
  const force = handleRequest(hr, Annotation.ForceRequestedAt, "lastHandledForceAt");
  if (force) ctx.log.info("forcing a release as requested");
  let outcome;
  try {
    outcome = await runRelease(hr, { release: releaseNameOf(hr), namespace, storageNamespace, chartPath, chart, values, revisionDigest }, ctx, deps, h, progress, { force });
  } catch (e) {
    if (e instanceof StorageNamespaceError) {
      markFalse(hr, CT.Ready, HelmReason.InitFailed, e.message);
      return notReady(hr, Result.retry(e));
    }
    // helm could not read the release storage (e.g. the impersonated account may not list Secrets).
    if (!(e instanceof HelmError)) throw e;
    markFalse(hr, CT.Ready, HelmReason.StateError, `Could not determine release state: ${e.message}`);
    return notReady(hr, Result.retry(e));
  }
  if (outcome.type === "in-sync" && driftMode(hr) !== "disabled") {
    try {
      await detectDrift(hr, { release: releaseNameOf(hr), storageNamespace, namespace }, h, ctx, deps);
    } catch (e) {
      if (!(e instanceof HelmError)) throw e;
      ctx.log.error({ error: e.message }, "drift detection failed");
    }
  } else if (driftMode(hr) === "disabled") removeCondition(hr, CT.Drifted);
  return outcomeResult(hr, outcome, interval, ctx);
}

async function outcomeResult(hr: HelmRelease, o: ActionOutcome, interval: number, ctx: ReconcileContext<HelmRelease>): Promise<Result> {
  const jittered = () => requeueAtInterval(interval, ctx.intervalJitter);
  switch (o.type) {
    case "in-sync": {
      if (testsGateReady(hr) && getCondition(hr, CT.TestSuccess)?.status === "False") {
        // Failed tests whose failure is not remediated (remediation.ignoreTestFailures): not Ready, nothing to retry.
        removeCondition(hr, CT.Reconciling);
        return jittered();
      }
      if (!isTrue(hr, CT.Ready)) {
        const released = getCondition(hr, CT.Released);
        const snap = hr.status?.history?.[0];
        const msg = released?.status === "True" ? released.message : `Helm release ${snap?.namespace}/${snap?.name}.v${snap?.version} is in sync`;
        if (released?.status !== "True") markTrue(hr, CT.Released, Reason.InstallSucceeded, msg);
        markTrue(hr, CT.Ready, released?.status === "True" ? released.reason : Reason.InstallSucceeded, msg);
      }
      return jittered();
    }
    case "succeeded":
      if (!isTrue(hr, CT.Ready)) removeCondition(hr, CT.Reconciling);
      ctx.log.info(getCondition(hr, CT.Ready)?.message ?? "release succeeded");
      return jittered();
    case "failed":
      ctx.log.error({ error: o.message }, `${o.action} failed, retrying`);
      return notReady(hr, Result.retry(new Error(o.message)));
    case "retry":
      // RetryOnFailure: no remediation, no stall; the next attempt is an upgrade after the retry interval.
      ctx.log.error({ error: o.message }, `${o.action} failed, retrying after ${formatGoDuration(o.afterMs)}`);
      markReconciling(hr, Reason.ProgressingWithRetry, `retrying after ${formatGoDuration(o.afterMs)}`);
      return notReady(hr, requeueAtInterval(o.afterMs, ctx.intervalJitter));
    case "exhausted":
      ctx.log.error({ error: getCondition(hr, CT.Ready)?.message }, `${o.action} failed, no retries left`);
      return stall(hr, RetriesExceededReason, `Failed to ${o.action} after ${o.failures} attempt(s)`, getCondition(hr, CT.Ready)?.reason);
    case "stalled":
      return stall(hr, o.reason, o.message, getCondition(hr, CT.Ready)?.reason);
  }
}

/**
 * As Flux: a forceAt/resetAt annotation counts when it has the value of requestedAt and was not
 * handled yet; the value is recorded in status.`field`.
 */
function handleRequest(hr: HelmRelease, annotation: string, field: "lastHandledForceAt" | "lastHandledResetAt"): boolean {
  const a = hr.metadata.annotations ?? {};
  const v = a[annotation];
  if (!v || v !== a[Annotation.ReconcileRequestedAt] || hr.status?.[field] === v) return false;
  (hr.status ??= {})[field] = v;
  return true;
}

/** Ready=False and Stalled=True; not retried until the object changes. */
function stall(hr: HelmRelease, reason: string, message: string, readyReason?: string): Result {
  if (!readyReason) markFalse(hr, CT.Ready, reason, message);
  removeCondition(hr, CT.Reconciling);
  markStalled(hr, reason, message);
  (hr.status ??= {}).observedGeneration = hr.metadata.generation;
  return Result.terminal(new Error(message));
}

/** A requeue while not Ready: observedGeneration stays (reconcileObject stamps it on success). */
function notReady(hr: HelmRelease, r: Result): Result {
  delete hr.metadata.generation;
  return r;
}
