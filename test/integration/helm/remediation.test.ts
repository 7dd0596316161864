// HelmRelease remediation: a failed install is uninstalled and retried, a failed upgrade is
// rolled back to the last successful revision (or uninstalled, strategy: uninstall) and
// retried, while install/upgrade.remediation.retries allow; the counters live in
// status.installFailures/upgradeFailures, Remediated records the last remediation, Stalled
// RetriesExceeded ends it, and a new generation resets the counters.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, releaseEvents, releaseSecrets, waitForAvailable, waitForRelease } from "./support";

const stalled = (h: { status?: { conditions?: Array<{ type: string; status: string }> } }) => h.status?.conditions?.some((c) => c.type === "Stalled" && c.status === "True") ?? false;
const services = { group: "", version: "v1", plural: "services", kind: "Service" };

describe("HelmRelease: remediation of failed installs and upgrades", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  const helmRepository = (ns: string) => suite.helmRepository(ns);
  const chart = () => suite.chart();
  // The API server rejects a Service of this type: the release is stored, then fails.
  const bogus = { service: { type: "Bogus" } };

  it("uninstalls a failed install and retries it, until install.remediation.retries are used up", async () => {
    const ns = await newNamespace("hr-rem-install");
    await helmRepository(ns);
    await createRelease(suite.ctl, ns, "bad", { chart: chart(), values: bogus, install: { remediation: { retries: 1, remediateLastFailure: true } } });
    const hr = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "False", check: stalled });
    expect(hr.status!.installFailures).to.equal(2);
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to install after 2 attempt(s)" });
    const msg = `Helm uninstall remediation for release ${ns}/bad.v1 with chart app@1.0.0 succeeded`;
    expect(cond(hr, "Remediated")).to.include({ status: "True", reason: "UninstallSucceeded", message: msg });
    expect(cond(hr, "Ready")).to.include({ status: "False", reason: "UninstallSucceeded", message: msg });
    expect(cond(hr, "Released")).to.include({ status: "False", reason: "InstallFailed" });
    expect(cond(hr, "Released")!.message).to.match(/Bogus/);
    // The last failure was remediated too: nothing of the release is left.
    expect(await releaseSecrets(suite.ctl.client, ns, "bad")).to.deep.equal([]);
    const events = await releaseEvents(suite.ctl.client, ns, "bad");
    expect(events.filter((e) => e.reason === "InstallFailed")).to.have.length.of.at.least(1);
    expect(events.some((e) => e.reason === "UninstallSucceeded" && e.message === msg)).to.equal(true);

    // A new generation resets the counters; the fixed values install.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "bad" }, { spec: { values: { service: { type: "ClusterIP" } } } });
    const fixed = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(fixed);
    expect(fixed.status!.installFailures).to.equal(undefined);
    expect(cond(fixed, "Remediated")).to.equal(undefined);
    await waitForAvailable(suite.ctl.client, ns, "bad-app");
  });

  it("rolls a failed upgrade back to the last successful revision and retries it, until upgrade.remediation.retries are used up", async () => {
    const ns = await newNamespace("hr-rem-rollback");
    await helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: chart(), upgrade: { remediation: { retries: 1 } } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: bogus } });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", check: (h) => stalled(h) && h.status?.observedGeneration === h.metadata.generation });
    expect(hr.status!.upgradeFailures).to.equal(2);
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to upgrade after 2 attempt(s)" });
    // v1 deployed, v2 failed, v3 = rollback to v1, v4 failed, v5 = rollback to v3 (remediateLastFailure defaults to true with retries).
    const msg = `Helm rollback to previous release ${ns}/web.v3 with chart app@1.0.0 succeeded`;
    expect(cond(hr, "Remediated")).to.include({ status: "True", reason: "RollbackSucceeded", message: msg });
    expect(cond(hr, "Ready")).to.include({ status: "False", reason: "RollbackSucceeded", message: msg });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal([1, 2, 3, 4, 5].map((v) => `sh.helm.release.v1.web.v${v}`));
    expect(hr.status!.history![0]).to.include({ version: 5, status: "deployed" });
    const svc = await suite.ctl.client.get<{ spec?: { type?: string } } & import("../../../controllers/runtime/keys").KubeObject>(services, { namespace: ns, name: "web-app" });
    expect(svc!.spec!.type).to.equal("ClusterIP");
    expect((await releaseEvents(suite.ctl.client, ns, "web")).filter((e) => e.reason === "RollbackSucceeded")).to.have.length.of.at.least(2);

    // No retries left: a requested reconcile runs no helm action.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "again" } } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", check: (h) => h.status?.lastHandledReconcileAt === "again" });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(5);

    // Fixed values: a new generation resets the counters and upgrades.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { service: { type: "ClusterIP" }, replicaCount: 2 } } });
    const fixed = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(fixed);
    expect(fixed.status!.upgradeFailures).to.equal(undefined);
    expect(cond(fixed, "Remediated")).to.equal(undefined);
    expect(fixed.status!.history![0]).to.include({ version: 6, status: "deployed" });
  });

  it("uninstalls a failed upgrade with upgrade.remediation.strategy uninstall, then installs again", async () => {
    const ns = await newNamespace("hr-rem-uninstall");
    await helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: chart(), upgrade: { remediation: { retries: 1, strategy: "uninstall" } } });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: bogus } });
    // After the uninstall the next action is an install, which fails with no install retries (0 by default).
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "InstallFailed", check: stalled });
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to install after 1 attempt(s)" });
    expect(hr.status!.upgradeFailures).to.equal(1);
    expect(hr.status!.installFailures).to.equal(1);
    const events = await releaseEvents(suite.ctl.client, ns, "web");
    expect(events.some((e) => e.reason === "UninstallSucceeded" && e.message === `Helm uninstall remediation for release ${ns}/web.v2 with chart app@1.0.0 succeeded`)).to.equal(true);
    // The reinstall starts again at revision 1.
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(hr.status!.history![0]).to.include({ version: 1, status: "failed" });
  });
});
