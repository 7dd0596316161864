// One Helm action for a HelmRelease: decide whether the stored release is in sync with the
// chart and values (then nothing runs), else `helm upgrade --install` and record the outcome:
// status.history, the Released/Ready conditions, the lastAttempted* fields and failure counts;
// a failed action is remediated (remediation.ts) while retries remain.
import { preserveValues, releaseFlags, uninstallFlags } from "./action-flags";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { ReleaseAction } from "../api/helm/v2/helm-release";
import { ConditionType as CT, Reason } from "../api/meta";
import { getCondition, markReconciling, markTrue, markFalse, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import type { HelmDeps } from "./deps";
import { ChartMetadata, HelmError, HelmRun, StoredRelease, getManifest, releaseStatus, uninstall, upgradeInstall } from "./helm-cli";
import { healthExprsApply, waitForCustomHealth } from "./health-exprs";
import { parseDuration } from "../runtime/duration";
import { DefaultTimeout, HelmReason } from "./names";
import { ensureNamespace, targetPostRenderer } from "./storage-namespace";
import { postRenderInSync, postRendererFor, recordPostRenderDigests, tidyPostRenderError } from "./post-render";
import { ReleaseLocation, RemediationOutcome, clearFailures, countFailure, failuresOf, remediate, remediationOf, retriesExhausted, retryOf } from "./remediation";
import { isPendingStatus, markStoredReleaseFailed } from "./release-storage";
import { ProgressWriter, recordSnapshot, releaseId, snapshotOf } from "./release-status";
import { hasBeenTested, hasFailedTest, ignoreTestFailures, runTests, testsEnabled } from "./release-test";
import { configDigest, valuesChecksum } from "./values";

export interface Desired {
  release: string;
  /** The release (target) namespace: objects and `.Release.Namespace`. */
  namespace: string;
  /** Where helm stores the release records (helm's --namespace). */
  storageNamespace: string;
  chartPath: string;
  chart: ChartMetadata;
  values: Record<string, unknown>;
  /** The source revision's digest, for sources whose content is tracked beyond the chart version (chart-source.ts). */
  revisionDigest?: string;
}

/** Flux's lastAttemptedRevision: the chart version, `+<digest[0:12]>` when the source's digest is tracked. */
const revisionOf = (d: Desired) => d.revisionDigest ? `${d.chart.version}+${(d.revisionDigest.split(":")[1] ?? d.revisionDigest).slice(0, 12)}` : d.chart.version;

export type ActionOutcome =
  | { type: "in-sync" }
  | { type: "succeeded"; action: ReleaseAction }
  /** Failed (and remediated when configured); retries remain: requeue. */
  | { type: "failed"; action: ReleaseAction; message: string }
  /** The failure counter of `action` is past its retries: stall, run nothing. */
  | { type: "exhausted"; action: ReleaseAction; failures: number }
  /** Failed with install/upgrade.strategy RetryOnFailure: not remediated, upgraded again after `afterMs`. */
  | { type: "retry"; action: ReleaseAction; message: string; afterMs: number }
  /** A remediation that cannot run (no rollback target): stall. */
  | { type: "stalled"; reason: string; message: string };

const inSync = (hr: HelmRelease, r: StoredRelease, d: Desired, digest: string) =>
  r.info.status === "deployed" && r.chart.metadata.name === d.chart.name && r.chart.metadata.version === d.chart.version
  && configDigest(r.config ?? {}) === digest
  // The helm CLI stores Chart.yaml's version: new content of a tracked source is told by the recorded digest.
  && (d.revisionDigest === undefined || hr.status?.lastAttemptedRevisionDigest === d.revisionDigest);

/** Default release name: `[targetNamespace-]name`, shortened past Helm's 53 characters as Flux does. */
export function releaseNameOf(hr: HelmRelease): string {
  if (hr.spec.releaseName) return hr.spec.releaseName;
  const name = hr.spec.targetNamespace ? `${hr.spec.targetNamespace}-${hr.metadata.name}` : hr.metadata.name!;
  if (name.length <= 53) return name;
  return `${name.slice(0, 40)}-${createHash("sha256").update(name).digest("hex").slice(0, 12)}`;
}

/** Flux's release event metadata: chart version as `revision`, the config digest as `token`, the app version. */
function releaseEventMeta(d: Desired, digest: string): Record<string, string> {
  const g = "helm.toolkit.fluxcd.io";
  return { [`${g}/revision`]: d.chart.version, [`${g}/token`]: digest, ...(d.chart.appVersion ? { [`${g}/app-version`]: d.chart.appVersion } : {}) };
}

/** `force`: reconcile.fluxcd.io/forceAt was handled: release even when in sync. */
export interface RunOptions { force?: boolean }

export async function runRelease(hr: HelmRelease, d: Desired, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps, h: HelmRun, progress: ProgressWriter,
  o: RunOptions = {}): Promise<ActionOutcome> {
  const st = (hr.status ??= {});
  const digest = configDigest(d.values);
  // Flux resets the failure counters when the generation, chart version or values changed.
  if (st.lastAttemptedGeneration !== hr.metadata.generation || st.lastAttemptedRevision !== revisionOf(d) || st.lastAttemptedConfigDigest !== digest) {
    clearFailures(hr);
  }
  const loc = { release: d.release, storageNamespace: d.storageNamespace, namespace: d.namespace };
  await uninstallMoved(hr, d, h);
  let stored = await releaseStatus(h, d.release, d.storageNamespace, d.namespace);
  if (stored && (isPendingStatus(stored.info.status) || stored.info.status === "uninstalling")) {
    const r = await recoverStale(hr, stored, loc, h, deps);
    if (r) return r;
    stored = await releaseStatus(h, d.release, d.storageNamespace, d.namespace);
  }
  // A revision whose healthCheckExprs failed is a failed release, whatever helm stored (health-exprs.ts).
  const top = st.history?.[0];
  if (stored?.info.status === "deployed" && top?.version === stored.version && top.name === stored.name && top.status === "failed") stored.info.status = "failed";
  let failedTests = false;
  if (stored && inSync(hr, stored, d, digest) && postRenderInSync(hr) && !o.force) {
    recordSnapshot(hr, snapshotOf(stored));
    const remediated = getCondition(hr, CT.Remediated);
    if (remediated) {
      // In sync after a rollback (the desired state is the rolled back one): released.
      removeCondition(hr, CT.Remediated);
      const msg = `Helm upgrade succeeded for release ${releaseId(stored)} with chart ${d.chart.name}@${d.chart.version}`;
      markTrue(hr, CT.Released, Reason.UpgradeSucceeded, msg);
      markTrue(hr, CT.Ready, Reason.UpgradeSucceeded, msg);
    }
    if (!testsEnabled(hr)) {
      removeCondition(hr, CT.TestSuccess);
      return { type: "in-sync" };
    }
    const last = st.lastAttemptedReleaseAction ?? ReleaseAction.Install;
    // As Flux: a deployed release not tested yet (tests just enabled, or a test run that
    // recorded nothing) is tested; one whose tests failed is a failed release of `last`.
    if (!hasBeenTested(hr.status?.history?.[0])) return (await testRelease(hr, last, loc, h, deps, progress, releaseEventMeta(d, digest))) ?? { type: "in-sync" };
    if (!hasFailedTest(hr.status?.history?.[0]) || ignoreTestFailures(hr, last)) return { type: "in-sync" };
    failedTests = true;
  }

  if (failedTests) {
    const last = st.lastAttemptedReleaseAction ?? ReleaseAction.Install;
    if (failuresOf(hr, last) > 0) {
      const rem = remediationOf(hr, last);
      if (retriesExhausted(hr, last) && !rem.remediateLastFailure) return { type: "exhausted", action: last, failures: failuresOf(hr, last) };
      return afterFailure(hr, last, await remediate(hr, last, h, loc, deps));
    }
    // No failures counted (e.g. reset by resetAt): release again.
  }

  // RetryOnFailure (of the last attempted action, as in Flux): a failed release is not
  // remediated, just upgraded again, whatever the failure counters say.
  const retrying = stored?.info.status === "failed" && retryOf(hr, st.lastAttemptedReleaseAction) !== undefined;
  if (stored?.info.status === "failed" && !retrying) {
    // A failed release left by an earlier reconcile (e.g. interrupted before its remediation).
    const last = st.lastAttemptedReleaseAction ?? ReleaseAction.Upgrade;
    if (failuresOf(hr, last) > 0) {
      const rem = remediationOf(hr, last);
      if (retriesExhausted(hr, last) && !rem.remediateLastFailure) return { type: "exhausted", action: last, failures: failuresOf(hr, last) };
      return afterFailure(hr, last, await remediate(hr, last, h, loc, deps));
    }
    // No failures counted: the conditions changed since, so upgrade.
  }
  const action = !stored || stored.info.status === "uninstalled" ? ReleaseAction.Install : ReleaseAction.Upgrade;
  if (!retrying && retriesExhausted(hr, action)) return { type: "exhausted", action, failures: failuresOf(hr, action) };

  st.lastAttemptedReleaseAction = action;
  st.lastAttemptedRevision = revisionOf(d);
  if (d.revisionDigest) st.lastAttemptedRevisionDigest = d.revisionDigest;
  else delete st.lastAttemptedRevisionDigest;
  st.lastAttemptedValuesChecksum = valuesChecksum(d.values);
  st.lastAttemptedConfigDigest = digest;
  st.lastAttemptedGeneration = hr.metadata.generation;
  st.storageNamespace = d.storageNamespace;
  // A new release attempt: an earlier remediation or test run no longer describes the release.
  removeCondition(hr, CT.Remediated);
  removeCondition(hr, CT.TestSuccess);
  markReconciling(hr, Reason.Progressing, `Running '${action}' action with timeout of ${hr.spec.timeout ?? DefaultTimeout}`);
  await progress.write(hr);

  const dir = fs.mkdtempSync(path.join(deps.workDir, "values-"));
  const started = Date.now();
  let error: HelmError | undefined;
  let unhealthy = false;
  let postRenderDone: (() => void) | undefined;
  try {
    const valuesFile = path.join(dir, "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(d.values), { mode: 0o600 });
    const opts = action === ReleaseAction.Install ? hr.spec.install : hr.spec.upgrade;
    const createNamespace = action === ReleaseAction.Install && hr.spec.install?.createNamespace === true;
    const split = d.storageNamespace !== d.namespace;
    if (split && createNamespace) await ensureNamespace(h.remote?.client ?? ctx.client, d.namespace, ctx.signal);
    const postRenderer = await postRendererFor(hr, deps, dir, split
      ? await targetPostRenderer(h, { release: d.release, namespace: d.namespace, chartPath: d.chartPath, valuesFile, isUpgrade: action === ReleaseAction.Upgrade }, dir)
      : undefined);
    postRenderDone = postRenderer.done;
    await upgradeInstall(h, {
      release: d.release, namespace: d.storageNamespace, chartPath: d.chartPath, valuesFile, postRenderer,
      timeout: opts?.timeout ?? hr.spec.timeout ?? DefaultTimeout,
      createNamespace: createNamespace && !split,
      wait: !opts?.disableWait,
      maxHistory: hr.spec.maxHistory,
      flags: releaseFlags(hr, action === ReleaseAction.Install), reuseValues: preserveValues(hr, action === ReleaseAction.Install),
    });
    if (healthExprsApply(hr, opts?.disableWait)) {
      try {
        await waitForCustomHealth(hr, await getManifest(h, d.release, d.storageNamespace), d.namespace, h.remote?.client ?? ctx.client,
          parseDuration(opts?.timeout ?? hr.spec.timeout ?? DefaultTimeout), ctx.signal);
      } catch (e) {
        if (e instanceof HelmError || ctx.signal?.aborted) throw e;
        unhealthy = true;
        throw new HelmError((e as Error).message, { cause: e });
      }
    }
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    error = tidyPostRenderError(e);
  } finally {
    postRenderDone?.();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  st.lastAttemptedReleaseActionDuration = `${((Date.now() - started) / 1000).toFixed(3)}s`;
  const after = await releaseStatus(h, d.release, d.storageNamespace, d.namespace);
  if (after && unhealthy && after.info.status === "deployed") after.info.status = "failed";
  if (after) recordSnapshot(hr, snapshotOf(after));
  const chart = `${d.chart.name}@${d.chart.version}`;
  if (error) {
    const reason = action === ReleaseAction.Install ? Reason.InstallFailed : Reason.UpgradeFailed;
    const message = `Helm ${action} failed for release ${d.namespace}/${d.release} with chart ${chart}: ${error.message}`;
    st.failures = (st.failures ?? 0) + 1;
    markFalse(hr, CT.Released, reason, message);
    markFalse(hr, CT.Ready, reason, message);
    await deps.events.warning(hr, reason, message, releaseEventMeta(d, digest));
    // Only a failure that stored a release revision counts (and is remediated), as in Flux:
    // anything else changed nothing and is simply retried.
    const storedNew = after !== undefined && (stored === undefined || after.version !== stored.version);
    if (storedNew) countFailure(hr, action);
    const retry = retryOf(hr, action);
    if (retry) return { type: "retry", action, message, afterMs: retry.intervalMs };
    if (!storedNew) return { type: "failed", action, message };
    const rem = remediationOf(hr, action);
    if (retriesExhausted(hr, action) && !rem.remediateLastFailure) return { type: "exhausted", action, failures: failuresOf(hr, action) };
    return afterFailure(hr, action, await remediate(hr, action, h, loc, deps), message);
  }
  const reason = action === ReleaseAction.Install ? Reason.InstallSucceeded : Reason.UpgradeSucceeded;
  const message = `Helm ${action} succeeded for release ${after ? releaseId(after) : `${d.namespace}/${d.release}`} with chart ${chart}`;
  recordPostRenderDigests(hr);
  markTrue(hr, CT.Released, reason, message);
  markTrue(hr, CT.Ready, reason, message);
  removeCondition(hr, CT.Stalled);
  await deps.events.normal(hr, reason, message, releaseEventMeta(d, digest));
  if (testsEnabled(hr)) {
    const failed = await testRelease(hr, action, loc, h, deps, progress, releaseEventMeta(d, digest));
    if (failed) return failed;
  }
  // Only a release that passed its tests ends the failures (else a test failing after every
  // successful install would never use up the retries).
  clearFailures(hr);
  return { type: "succeeded", action };
}

/**
 * `helm test` of the latest release, after `action`. Undefined when the tests passed or their
 * failure is ignored (install/upgrade.remediation.ignoreTestFailures); else a failure of
 * `action`, remediated as a failed `action` would be.
 */
async function testRelease(hr: HelmRelease, action: ReleaseAction, loc: ReleaseLocation, h: HelmRun, deps: HelmDeps, progress: ProgressWriter,
  meta: Record<string, string>): Promise<ActionOutcome | undefined> {
  const t = await runTests(hr, action, loc, h, deps, progress, meta);
  if (t.type === "passed") return undefined;
  // helm recorded no results (e.g. it could not start): nothing was tested, retry.
  if (!t.tested) return { type: "failed", action, message: t.message };
  if (ignoreTestFailures(hr, action)) return undefined;
  const retry = retryOf(hr, action);
  if (retry) return { type: "retry", action, message: t.message, afterMs: retry.intervalMs };
  const rem = remediationOf(hr, action);
  if (retriesExhausted(hr, action) && !rem.remediateLastFailure) return { type: "exhausted", action, failures: failuresOf(hr, action) };
  return afterFailure(hr, action, await remediate(hr, action, h, loc, deps), t.message);
}

/**
 * A release helm left locked: `pending-install`, `pending-upgrade` or `pending-rollback` (or
 * `uninstalling`) is only ever written while a helm process runs its action, and this
 * HelmRelease's actions run one at a time, in this process (leader election keeps a second
 * replica out). So a lock seen here was left by a process that died mid-action (the
 * controller's pod was killed with its helm child): helm itself would refuse every later
 * action with "another operation (install/upgrade/rollback) is in progress" forever.
 * As Flux does, the stale revision is marked failed (Released/Ready=False PendingRelease) and
 * remediated as a failure of its action: an interrupted install is uninstalled, an interrupted
 * upgrade or rollback is rolled back to the last successful revision (or uninstalled, with
 * the uninstall strategy); an interrupted uninstall is run again. The interruption is not
 * counted against the retries (no chart failed), so a HelmRelease with the default
 * `retries: 0` recovers instead of stalling. The release is then installed or upgraded in
 * the same reconcile. Returns an outcome only when the recovery itself failed.
 */
async function recoverStale(hr: HelmRelease, stored: StoredRelease, loc: ReleaseLocation, h: HelmRun, deps: HelmDeps): Promise<ActionOutcome | undefined> {
  const state = stored.info.status;
  const id = releaseId(stored);
  const chart = `${stored.chart.metadata.name}@${stored.chart.metadata.version}`;
  const message = `Unlocked Helm release ${id} with chart ${chart} in ${state} state`;
  if (state === "uninstalling") {
    const u = hr.spec.uninstall;
    try {
      await uninstall(h, loc.release, loc.storageNamespace, { keepHistory: u?.keepHistory === true, timeout: u?.timeout ?? hr.spec.timeout ?? DefaultTimeout, wait: !u?.disableWait, flags: uninstallFlags(hr) });
    } catch (e) {
      if (!(e instanceof HelmError)) throw e;
      return { type: "failed", action: hr.status?.lastAttemptedReleaseAction ?? ReleaseAction.Install, message: `Helm uninstall of release ${id} left in uninstalling state failed: ${e.message}` };
    }
    markFalse(hr, CT.Released, HelmReason.PendingRelease, `${message}: uninstalled`);
    markFalse(hr, CT.Ready, HelmReason.PendingRelease, `${message}: uninstalled`);
    await deps.events.warning(hr, HelmReason.PendingRelease, `${message}: uninstalled`);
    return undefined;
  }
  const client = h.remote?.client ?? deps.storageClient?.(h.asUser);
  if (!client) throw new HelmError(`release ${id} is locked in ${state} state and cannot be unlocked without a client for its storage`);
  const description = `Release unlocked from stale '${state}' state: the helm process running it is gone`;
  try {
    await markStoredReleaseFailed(client, loc.release, loc.storageNamespace, stored.version, state, description, h.signal);
  } catch (e) {
    if (e instanceof HelmError) throw e;
    throw new HelmError(`could not unlock release ${id} in ${state} state: ${(e as Error).message}`, { cause: e });
  }
  recordSnapshot(hr, snapshotOf({ ...stored, info: { ...stored.info, status: "failed", description } }));
  markFalse(hr, CT.Released, HelmReason.PendingRelease, message);
  markFalse(hr, CT.Ready, HelmReason.PendingRelease, message);
  await deps.events.warning(hr, HelmReason.PendingRelease, message);
  const action = state === "pending-install" ? ReleaseAction.Install : ReleaseAction.Upgrade;
  const r = await remediate(hr, action, h, loc, deps);
  // No earlier successful revision to roll back to: the failed revision is upgraded as it is.
  if (r.type === "missing-target") return undefined;
  if (r.type === "failed") return { type: "failed", action, message: r.message };
  return undefined;
}

/**
 * As Flux: a release whose name, target namespace or storage namespace changed is not moved;
 * the one in status (history and storageNamespace) is uninstalled before installing anew.
 */
async function uninstallMoved(hr: HelmRelease, d: Desired, h: HelmRun): Promise<void> {
  const st = hr.status;
  const prev = st?.history?.[0];
  if (!st?.storageNamespace || !prev) return;
  if (st.storageNamespace === d.storageNamespace && prev.name === d.release && prev.namespace === d.namespace) return;
  const u = hr.spec.uninstall;
  try {
    await uninstall(h, prev.name, st.storageNamespace, { keepHistory: false, timeout: u?.timeout ?? hr.spec.timeout ?? DefaultTimeout, wait: !u?.disableWait, flags: uninstallFlags(hr) });
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    throw new HelmError(`failed to uninstall release ${releaseId(prev)} from ${st.storageNamespace} before releasing it as ${d.storageNamespace}/${d.release}: ${e.message}`, { cause: e });
  }
  await h.deps.events.normal(hr, Reason.UninstallSucceeded, `Helm uninstall succeeded for release ${releaseId(prev)} with chart ${prev.chartName}@${prev.chartVersion}: the release moved to ${d.storageNamespace}/${d.release}`);
  delete st.history;
  delete st.storageNamespace;
}

function afterFailure(hr: HelmRelease, action: ReleaseAction, r: RemediationOutcome, message?: string): ActionOutcome {
  if (r.type === "missing-target") return { type: "stalled", reason: HelmReason.MissingRollbackTarget, message: r.message };
  if (retriesExhausted(hr, action)) return { type: "exhausted", action, failures: failuresOf(hr, action) };
  return { type: "failed", action, message: r.type === "failed" ? r.message : message ?? getCondition(hr, CT.Ready)?.message ?? "" };
}
