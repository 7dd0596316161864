// Helm tests (spec.test), as Flux's helm-controller runs them: `helm test` after a successful
// install or upgrade (or for a deployed release not tested yet), the hooks' last runs recorded
// in status.history[0].testHooks, the TestSuccess condition (TestSucceeded/TestFailed) and an
// event. A failure counts against the remediation of the last action unless
// install/upgrade.remediation.ignoreTestFailures (default test.ignoreFailures) says to ignore it;
// Ready follows TestSuccess unless test.ignoreFailures.
import type { HelmRelease, ReleaseSnapshot } from "../api/helm/v2/helm-release";
import { ReleaseAction } from "../api/helm/v2/helm-release";
import { ConditionType as CT, Reason } from "../api/meta";
import { markFalse, markReconciling, markTrue } from "../runtime/conditions";
import type { HelmDeps } from "./deps";
import { HelmError, HelmRun, StoredRelease, releaseStatus, test } from "./helm-cli";
import { DefaultTimeout } from "./names";
import { countFailure, ReleaseLocation } from "./remediation";
import { ProgressWriter, recordSnapshot, releaseId, snapshotOf } from "./release-status";

type TestHooks = NonNullable<ReleaseSnapshot["testHooks"]>;
type Filter = { name: string; exclude?: boolean };

export const testsEnabled = (hr: HelmRelease): boolean => hr.spec.test?.enable === true;

/** Whether test results decide Ready (Flux summarizes TestSuccess into Ready unless test.ignoreFailures). */
export const testsGateReady = (hr: HelmRelease): boolean => testsEnabled(hr) && hr.spec.test?.ignoreFailures !== true;

/** install/upgrade.remediation.ignoreTestFailures, test.ignoreFailures by default. */
export function ignoreTestFailures(hr: HelmRelease, action: ReleaseAction | undefined): boolean {
  const r = action === ReleaseAction.Install ? hr.spec.install?.remediation : hr.spec.upgrade?.remediation;
  return r?.ignoreTestFailures ?? hr.spec.test?.ignoreFailures ?? false;
}

export const hasFailedTest = (s: ReleaseSnapshot | undefined): boolean => Object.values(s?.testHooks ?? {}).some((h) => h?.phase === "Failed");

/** Test results were observed: no hooks selected, one failed, or all succeeded. */
export function hasBeenTested(s: ReleaseSnapshot | undefined): boolean {
  const hooks = s?.testHooks;
  if (!hooks) return false;
  const all = Object.values(hooks);
  return all.length === 0 || hasFailedTest(s) || all.every((h) => h?.phase === "Succeeded");
}

/** As Flux selects: an excluded name never; with any include filter, only the included names. */
function selected(name: string, filters: Filter[]): boolean {
  if (filters.some((f) => f.exclude && f.name === name)) return false;
  const includes = filters.filter((f) => !f.exclude);
  return includes.length === 0 || includes.some((f) => f.name === name);
}

function testHooksOf(r: StoredRelease, filters: Filter[]): TestHooks {
  const out: TestHooks = {};
  for (const hook of r.hooks ?? []) {
    if (!hook.events?.includes("test") || !selected(hook.name, filters)) continue;
    const run = hook.last_run ?? {};
    const t = (x?: string) => (x && !x.startsWith("0001-") ? new Date(x).toISOString().replace(/\.\d+Z$/, "Z") : undefined);
    out[hook.name] = { ...(t(run.started_at) ? { lastStarted: t(run.started_at) } : {}), ...(t(run.completed_at) ? { lastCompleted: t(run.completed_at) } : {}), ...(run.phase ? { phase: run.phase } : {}) };
  }
  return out;
}

export type TestOutcome =
  | { type: "passed" }
  /** `tested`: hook results were recorded (else helm could not run them and the test is retried). */
  | { type: "failed"; message: string; tested: boolean };

/** Runs `helm test` for the latest release in status.history and records the outcome. */
export async function runTests(hr: HelmRelease, action: ReleaseAction, loc: ReleaseLocation, h: HelmRun, deps: HelmDeps, progress: ProgressWriter,
  eventMeta: Record<string, string>): Promise<TestOutcome> {
  const st = (hr.status ??= {});
  const filters = hr.spec.test?.filters ?? [];
  const timeout = hr.spec.test?.timeout ?? hr.spec.timeout ?? DefaultTimeout;
  markReconciling(hr, Reason.Progressing, `Running 'test' action with timeout of ${timeout}`);
  await progress.write(hr);
  let error: HelmError | undefined;
  try {
    await test(h, loc.release, loc.storageNamespace, { timeout, filters });
  } catch (e) {
    if (!(e instanceof HelmError)) throw e;
    error = e;
  }
  const latest = st.history?.[0];
  const after = await releaseStatus(h, loc.release, loc.storageNamespace, loc.namespace).catch(() => undefined);
  // Only results for the release we recorded as latest count.
  if (after && latest && after.version === latest.version) {
    const snap = snapshotOf(after);
    snap.testHooks = testHooksOf(after, filters);
    recordSnapshot(hr, snap);
  }
  const cur = st.history?.[0];
  const id = cur ? releaseId(cur) : `${loc.namespace}/${loc.release}`;
  const chart = cur ? `${cur.chartName}@${cur.chartVersion}` : "";
  if (!error) {
    const n = Object.keys(cur?.testHooks ?? {}).length;
    const msg = `Helm test succeeded for release ${id} with chart ${chart}: ${n ? `${n} test hook${n > 1 ? "s" : ""} completed successfully` : "no test hooks"}`;
    markTrue(hr, CT.TestSuccess, Reason.TestSucceeded, msg);
    if (testsGateReady(hr)) markTrue(hr, CT.Ready, Reason.TestSucceeded, msg);
    await deps.events.normal(hr, Reason.TestSucceeded, msg, eventMeta);
    return { type: "passed" };
  }
  const msg = `Helm test failed for release ${id} with chart ${chart}: ${error.message}`;
  st.failures = (st.failures ?? 0) + 1;
  markFalse(hr, CT.TestSuccess, Reason.TestFailed, msg);
  if (testsGateReady(hr)) markFalse(hr, CT.Ready, Reason.TestFailed, msg);
  await deps.events.warning(hr, Reason.TestFailed, msg, eventMeta);
  const tested = hasBeenTested(cur);
  if (tested && !ignoreTestFailures(hr, action)) countFailure(hr, action);
  return { type: "failed", message: msg, tested };
}
