// Remediation of a failed Helm action, as Flux's helm-controller does it: a failed install is
// uninstalled; a failed upgrade is rolled back to the last successful revision in
// status.history (or uninstalled, upgrade.remediation.strategy: uninstall). Each failure
// counts in status.installFailures / status.upgradeFailures; once a counter passes
// remediation.retries the release stalls (RetriesExceeded), remediated one last time only
// with remediateLastFailure. The outcome is the Remediated condition, summarized into Ready.
import { rollbackFlags, uninstallFlags } from "./action-flags";
import type { HelmRelease, ReleaseSnapshot } from "../api/helm/v2/helm-release";
import { ReleaseAction } from "../api/helm/v2/helm-release";
import { ActionStrategy, RemediationStrategy } from "../api/helm/v2/helm-release-actions";
import { ConditionType as CT, Reason } from "../api/meta";
import { markFalse, markTrue } from "../runtime/conditions";
import { parseDuration } from "../runtime/duration";
import type { HelmDeps } from "./deps";
import { HelmError, HelmRun, releaseStatus, rollback, uninstall } from "./helm-cli";
import { DefaultTimeout } from "./names";
import { recordSnapshot, releaseId, snapshotOf } from "./release-status";

export interface Remediation {
  retries: number;
  remediateLastFailure: boolean;
  strategy: RemediationStrategy;
}

/** The remediation settings of an action, with Flux's defaults. */
export function remediationOf(hr: HelmRelease, action: ReleaseAction): Remediation {
  if (action === ReleaseAction.Install) {
    const r = hr.spec.install?.remediation;
    return { retries: normRetries(r?.retries), remediateLastFailure: r?.remediateLastFailure === true, strategy: RemediationStrategy.Uninstall };
  }
  const r = hr.spec.upgrade?.remediation;
  const retries = normRetries(r?.retries);
  // Upgrade: remediateLastFailure defaults to true when retries > 0.
  return { retries, remediateLastFailure: r?.remediateLastFailure ?? (r?.retries ?? 0) > 0, strategy: r?.strategy ?? RemediationStrategy.Rollback };
}

/** install/upgrade.strategy RetryOnFailure: how long to wait before retrying (5m by default). */
export interface Retry { intervalMs: number }

/**
 * The RetryOnFailure strategy of `action` (Flux: of the last attempted action), or undefined
 * for RemediateOnFailure, the default. With it a failure is neither remediated nor counted
 * against retries: the release is upgraded again after the retry interval.
 */
export function retryOf(hr: HelmRelease, action: ReleaseAction | undefined): Retry | undefined {
  const s = action === ReleaseAction.Install ? hr.spec.install?.strategy : action === ReleaseAction.Upgrade ? hr.spec.upgrade?.strategy : undefined;
  if (s?.name !== ActionStrategy.RetryOnFailure) return undefined;
  return { intervalMs: s.retryInterval ? parseDuration(s.retryInterval) : 5 * 60_000 };
}

const normRetries = (r: number | undefined): number => (r === undefined ? 0 : r < 0 ? Number.POSITIVE_INFINITY : r);

export function failuresOf(hr: HelmRelease, action: ReleaseAction): number {
  return (action === ReleaseAction.Install ? hr.status?.installFailures : hr.status?.upgradeFailures) ?? 0;
}

export function countFailure(hr: HelmRelease, action: ReleaseAction): void {
  const st = (hr.status ??= {});
  if (action === ReleaseAction.Install) st.installFailures = (st.installFailures ?? 0) + 1;
  else st.upgradeFailures = (st.upgradeFailures ?? 0) + 1;
}

/** Flux's RetriesExhausted: more failures than retries. */
export const retriesExhausted = (hr: HelmRelease, action: ReleaseAction): boolean => failuresOf(hr, action) > remediationOf(hr, action).retries;

export function clearFailures(hr: HelmRelease): void {
  const st = hr.status;
  if (!st) return;
  delete st.failures;
  delete st.installFailures;
  delete st.upgradeFailures;
}

export type RemediationOutcome =
  | { type: "remediated" }
  | { type: "failed"; message: string }
  | { type: "missing-target"; message: string };

/** The last successful revision before the latest one, from status.history. */
export function rollbackTarget(hr: HelmRelease): ReleaseSnapshot | undefined {
  const [latest, ...rest] = hr.status?.history ?? [];
  if (!latest) return undefined;
  return rest.find((s) => s.name === latest.name && s.namespace === latest.namespace && (s.status === "deployed" || s.status === "superseded"));
}

const chartOf = (s: ReleaseSnapshot): string => `${s.chartName}@${s.chartVersion}`;

/** Runs the remediation of a failed `action` and records it in Remediated (and Ready, as Flux's summary does). */
/** Where a release lives: its name, the namespace of its storage and of its objects. */
export interface ReleaseLocation { release: string; storageNamespace: string; namespace: string }

export async function remediate(hr: HelmRelease, action: ReleaseAction, h: HelmRun, loc: ReleaseLocation, deps: HelmDeps): Promise<RemediationOutcome> {
  const { release, storageNamespace } = loc;
  const observe = () => releaseStatus(h, release, storageNamespace, loc.namespace).catch(() => undefined);
  const st = (hr.status ??= {});
  const latest = st.history?.[0];
  const current = latest ? `${releaseId(latest)}` : `${loc.namespace}/${release}`;
  const currentChart = latest ? chartOf(latest) : "unknown";
  const strategy = remediationOf(hr, action).strategy;
  const timeoutOf = (t?: string) => t ?? hr.spec.timeout ?? DefaultTimeout;

  if (strategy === RemediationStrategy.Rollback) {
    const prev = rollbackTarget(hr);
    if (!prev) return { type: "missing-target", message: "Failed to perform remediation: missing target for rollback: required to rollback" };
    const r = hr.spec.rollback;
    try {
      await rollback(h, release, storageNamespace, prev.version, { timeout: timeoutOf(r?.timeout), wait: !r?.disableWait, flags: rollbackFlags(hr) });
    } catch (e) {
      if (!(e instanceof HelmError)) throw e;
      return failed(`Helm rollback to previous release ${releaseId(prev)} with chart ${chartOf(prev)} failed: ${e.message}`, Reason.RollbackFailed);
    } finally {
      const after = await observe();
      if (after) recordSnapshot(hr, snapshotOf(after));
    }
    return succeeded(`Helm rollback to previous release ${releaseId(prev)} with chart ${chartOf(prev)} succeeded`, Reason.RollbackSucceeded);
  }

  const u = hr.spec.uninstall;
  try {
    await uninstall(h, release, storageNamespace, { keepHistory: u?.keepHistory === true, timeout: timeoutOf(u?.timeout), wait: !u?.disableWait, flags: uninstallFlags(hr) });
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    return failed(`Helm uninstall remediation for release ${current} with chart ${currentChart} failed: ${e.message}`, Reason.UninstallFailed);
  }
  const after = await observe();
  if (after) recordSnapshot(hr, snapshotOf(after));
  else if (latest) { latest.status = "uninstalled"; }
  return succeeded(`Helm uninstall remediation for release ${current} with chart ${currentChart} succeeded`, Reason.UninstallSucceeded);

  async function succeeded(message: string, reason: string): Promise<RemediationOutcome> {
    markTrue(hr, CT.Remediated, reason, message);
    markFalse(hr, CT.Ready, reason, message);
    await deps.events.normal(hr, reason, message);
    return { type: "remediated" };
  }
  async function failed(message: string, reason: string): Promise<RemediationOutcome> {
    st.failures = (st.failures ?? 0) + 1;
    markFalse(hr, CT.Remediated, reason, message);
    markFalse(hr, CT.Ready, reason, message);
    await deps.events.warning(hr, reason, message);
    return { type: "failed", message };
  }
}
