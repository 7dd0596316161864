// One Helm action for a HelmRelease: decide whether the stored release is in sync with the
// chart and values (then nothing runs), else `helm upgrade --install` and record the outcome:
// status.history, the Released/Ready conditions, the lastAttempted* fields and failure counts.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { ReleaseAction } from "../api/helm/v2/helm-release";
import { ConditionType as CT, Reason } from "../api/meta";
import { markReconciling, markTrue, markFalse, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import type { HelmDeps } from "./deps";
import { ChartMetadata, HelmError, StoredRelease, releaseStatus, upgradeInstall } from "./helm-cli";
import { DefaultTimeout } from "./names";
import { ProgressWriter, recordSnapshot, releaseId, snapshotOf } from "./release-status";
import { configDigest, valuesChecksum } from "./values";

export interface Desired {
  release: string;
  namespace: string;
  chartPath: string;
  chart: ChartMetadata;
  values: Record<string, unknown>;
}

export type ActionOutcome =
  | { type: "in-sync" }
  | { type: "skipped-failed" }
  | { type: "succeeded"; action: ReleaseAction }
  | { type: "failed"; action: ReleaseAction; message: string };

const inSync = (r: StoredRelease, d: Desired, digest: string) =>
  r.info.status === "deployed" && r.chart.metadata.name === d.chart.name && r.chart.metadata.version === d.chart.version
  && configDigest(r.config ?? {}) === digest;

/** Default release name: `[targetNamespace-]name`, shortened past Helm's 53 characters as Flux does. */
export function releaseNameOf(hr: HelmRelease): string {
  if (hr.spec.releaseName) return hr.spec.releaseName;
  const name = hr.spec.targetNamespace ? `${hr.spec.targetNamespace}-${hr.metadata.name}` : hr.metadata.name!;
  if (name.length <= 53) return name;
  return `${name.slice(0, 40)}-${createHash("sha256").update(name).digest("hex").slice(0, 12)}`;
}

export async function runRelease(hr: HelmRelease, d: Desired, ctx: ReconcileContext<HelmRelease>, deps: HelmDeps, progress: ProgressWriter): Promise<ActionOutcome> {
  const st = (hr.status ??= {});
  const digest = configDigest(d.values);
  const stored = await releaseStatus(deps, d.release, d.namespace, ctx.signal);
  if (stored && inSync(stored, d, digest)) {
    recordSnapshot(hr, snapshotOf(stored));
    return { type: "in-sync" };
  }
  const action = !stored || stored.info.status === "uninstalled" ? ReleaseAction.Install : ReleaseAction.Upgrade;
  const unchangedFailure = stored && stored.info.status !== "deployed" && st.lastAttemptedGeneration === hr.metadata.generation
    && st.lastAttemptedConfigDigest === digest && st.lastAttemptedRevision === d.chart.version && (st.failures ?? 0) > retriesOf(hr, action);
  if (unchangedFailure) return { type: "skipped-failed" };

  st.lastAttemptedReleaseAction = action;
  st.lastAttemptedRevision = d.chart.version;
  st.lastAttemptedValuesChecksum = valuesChecksum(d.values);
  st.lastAttemptedConfigDigest = digest;
  st.lastAttemptedGeneration = hr.metadata.generation;
  st.storageNamespace = d.namespace;
  markReconciling(hr, Reason.Progressing, `Running '${action}' action with timeout of ${hr.spec.timeout ?? DefaultTimeout}`);
  await progress.write(hr);

  const dir = fs.mkdtempSync(path.join(deps.workDir, "values-"));
  const started = Date.now();
  let error: HelmError | undefined;
  try {
    const valuesFile = path.join(dir, "values.json");
    fs.writeFileSync(valuesFile, JSON.stringify(d.values), { mode: 0o600 });
    const opts = action === ReleaseAction.Install ? hr.spec.install : hr.spec.upgrade;
    await upgradeInstall(deps, {
      release: d.release, namespace: d.namespace, chartPath: d.chartPath, valuesFile,
      timeout: opts?.timeout ?? hr.spec.timeout ?? DefaultTimeout,
      createNamespace: action === ReleaseAction.Install && hr.spec.install?.createNamespace === true,
      wait: !opts?.disableWait,
      maxHistory: hr.spec.maxHistory,
    }, ctx.signal);
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    error = e;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  st.lastAttemptedReleaseActionDuration = `${((Date.now() - started) / 1000).toFixed(3)}s`;
  const after = await releaseStatus(deps, d.release, d.namespace, ctx.signal);
  if (after) recordSnapshot(hr, snapshotOf(after));
  const chart = `${d.chart.name}@${d.chart.version}`;
  if (error) {
    const reason = action === ReleaseAction.Install ? Reason.InstallFailed : Reason.UpgradeFailed;
    const message = `Helm ${action} failed for release ${d.namespace}/${d.release} with chart ${chart}: ${error.message}`;
    st.failures = (st.failures ?? 0) + 1;
    if (action === ReleaseAction.Install) st.installFailures = (st.installFailures ?? 0) + 1;
    else st.upgradeFailures = (st.upgradeFailures ?? 0) + 1;
    markFalse(hr, CT.Released, reason, message);
    markFalse(hr, CT.Ready, reason, message);
    return { type: "failed", action, message };
  }
  const reason = action === ReleaseAction.Install ? Reason.InstallSucceeded : Reason.UpgradeSucceeded;
  const message = `Helm ${action} succeeded for release ${after ? releaseId(after) : `${d.namespace}/${d.release}`} with chart ${chart}`;
  delete st.failures;
  delete st.installFailures;
  delete st.upgradeFailures;
  markTrue(hr, CT.Released, reason, message);
  markTrue(hr, CT.Ready, reason, message);
  removeCondition(hr, CT.Stalled);
  return { type: "succeeded", action };
}

/** Retries of a failed action (spec.install/upgrade.remediation.retries); 0 by default, negative for unlimited. */
export function retriesOf(hr: HelmRelease, action: ReleaseAction): number {
  const r = (action === ReleaseAction.Install ? hr.spec.install : hr.spec.upgrade)?.remediation?.retries ?? 0;
  return r < 0 ? Number.POSITIVE_INFINITY : r;
}
