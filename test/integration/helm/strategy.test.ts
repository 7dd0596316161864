// HelmRelease install/upgrade.strategy: RetryOnFailure neither remediates (no uninstall, no
// rollback) nor stalls on used-up retries; a failed release is upgraded again after
// strategy.retryInterval, with Reconciling=True ProgressingWithRetry "retrying after <interval>".
// RemediateOnFailure (the default) is covered by remediation.test.ts.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, releaseEvents, releaseSecrets, waitForRelease } from "./support";

describe("HelmRelease: install/upgrade strategy RetryOnFailure", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  // The API server rejects a Service of this type: the release is stored, then fails.
  const bogus = { service: { type: "Bogus" } };
  const retry = { strategy: { name: "RetryOnFailure", retryInterval: "3s" } };
  // Between attempts (during one, Reconciling says which action runs).
  const waitingToRetry = (h: HelmRelease) => cond(h, "Reconciling")?.reason === "ProgressingWithRetry";

  it("keeps a failed install, retries it as an upgrade after retryInterval, and succeeds once the values are fixed", async () => {
    const ns = await newNamespace("hr-retry-install");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "bad", { chart: suite.chart(), values: bogus, install: retry, upgrade: retry });
    const hr = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "False", reason: "InstallFailed", check: waitingToRetry });
    expect(cond(hr, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry", message: "retrying after 3s" });
    expect(cond(hr, "Stalled")).to.equal(undefined);
    expect(cond(hr, "Remediated")).to.equal(undefined);
    expect(cond(hr, "Released")!.message).to.match(/Bogus/);

    // Retried (an upgrade of the failed release), never uninstalled: the failed revisions pile up.
    await eventually(async () => (await releaseSecrets(suite.ctl.client, ns, "bad")).length >= 3, { timeoutMs: 30000, what: "two retries" });
    const retried = await suite.ctl.client.get<HelmRelease>(helmReleases, { namespace: ns, name: "bad" });
    expect(retried!.status!.lastAttemptedReleaseAction).to.equal("upgrade");
    expect(cond(retried, "Stalled")).to.equal(undefined);
    const events = await releaseEvents(suite.ctl.client, ns, "bad");
    expect(events.filter((e) => e.reason === "UpgradeFailed")).to.have.length.of.at.least(1);
    expect(events.filter((e) => /^Uninstall|^Rollback/.test(e.reason))).to.deep.equal([]);

    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "bad" }, { spec: { values: { service: { type: "ClusterIP" } } } });
    const fixed = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(fixed);
    expect(fixed.status!.history![0].status).to.equal("deployed");
  });

  it("does not roll back a failed upgrade; it retries the upgrade", async () => {
    const ns = await newNamespace("hr-retry-upgrade");
    await suite.helmRepository(ns);
    // retries would allow a rollback with RemediateOnFailure: RetryOnFailure must ignore them.
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), upgrade: { ...retry, remediation: { retries: 3 } } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: bogus } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "UpgradeFailed", check: waitingToRetry });
    expect(cond(hr, "Reconciling")).to.include({ reason: "ProgressingWithRetry", message: "retrying after 3s" });
    await eventually(async () => (await releaseSecrets(suite.ctl.client, ns, "web")).length >= 3, { timeoutMs: 30000, what: "a retried upgrade" });
    const later = await suite.ctl.client.get<HelmRelease>(helmReleases, { namespace: ns, name: "web" });
    expect(cond(later, "Remediated")).to.equal(undefined);
    expect(cond(later, "Stalled")).to.equal(undefined);
    expect(later!.status!.history![0].status).to.equal("failed");
    expect((await releaseEvents(suite.ctl.client, ns, "web")).filter((e) => e.reason.startsWith("Rollback"))).to.deep.equal([]);
  });
});
