// The reconcile.fluxcd.io/forceAt and resetAt annotations, each with the same value as
// reconcile.fluxcd.io/requestedAt: forceAt runs one upgrade of an in-sync release
// (status.lastHandledForceAt), resetAt clears the failure counters so a Stalled release is
// attempted again (status.lastHandledResetAt). A value that differs from requestedAt, or was
// handled already, does nothing.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, releaseSecrets, waitForRelease } from "./support";

const stalled = (h: HelmRelease) => cond(h, "Stalled")?.status === "True";

describe("HelmRelease: forceAt and resetAt annotations", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  const annotate = (ns: string, name: string, annotations: Record<string, string>) =>
    suite.ctl.client.patch(helmReleases, { namespace: ns, name }, { metadata: { annotations } });

  it("forceAt with requestedAt upgrades an in-sync release once", async () => {
    const ns = await newNamespace("hr-force");
    await suite.helmRepository(ns);
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart() });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    // forceAt alone (no matching requestedAt) does nothing.
    await annotate(ns, "web", { "reconcile.fluxcd.io/forceAt": "f1", "reconcile.fluxcd.io/requestedAt": "r0" });
    const ignored = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h) => h.status?.lastHandledReconcileAt === "r0" });
    expect(ignored.status!.lastHandledForceAt).to.equal(undefined);
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(1);

    await annotate(ns, "web", { "reconcile.fluxcd.io/forceAt": "f1", "reconcile.fluxcd.io/requestedAt": "f1" });
    const forced = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded", check: (h) => h.status?.lastHandledForceAt === "f1" });
    expectSettled(forced);
    expect(forced.status!.lastHandledReconcileAt).to.equal("f1");
    expect(forced.status!.history![0]).to.include({ version: 2, status: "deployed" });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1", "sh.helm.release.v1.web.v2"]);

    // Handled already: a new requestedAt alone does not force again.
    await annotate(ns, "web", { "reconcile.fluxcd.io/requestedAt": "r2" });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", check: (h) => h.status?.lastHandledReconcileAt === "r2" });
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.have.length(2);
  });

  it("resetAt with requestedAt clears the failure counters: a Stalled release is attempted again", async () => {
    const ns = await newNamespace("hr-reset");
    await suite.helmRepository(ns);
    // The API server rejects a Service of this type: the release is stored, then fails.
    await createRelease(suite.ctl, ns, "bad", { chart: suite.chart(), values: { service: { type: "Bogus" } } });
    const first = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "False", check: stalled });
    expect(cond(first, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to install after 1 attempt(s)" });
    expect(first.status!.installFailures).to.equal(1);
    expect(await releaseSecrets(suite.ctl.client, ns, "bad")).to.deep.equal(["sh.helm.release.v1.bad.v1"]);

    // resetAt alone (no matching requestedAt) does nothing.
    await annotate(ns, "bad", { "reconcile.fluxcd.io/resetAt": "x1", "reconcile.fluxcd.io/requestedAt": "r0" });
    const ignored = await waitForRelease(suite.ctl.client, ns, "bad", { ready: "False", check: (h) => h.status?.lastHandledReconcileAt === "r0" });
    expect(ignored.status!.lastHandledResetAt).to.equal(undefined);
    expect(ignored.status!.installFailures).to.equal(1);

    await annotate(ns, "bad", { "reconcile.fluxcd.io/resetAt": "x1", "reconcile.fluxcd.io/requestedAt": "x1" });
    // Attempted again: the failed release is upgraded, fails, and stalls on the upgrade retries.
    const again = await waitForRelease(suite.ctl.client, ns, "bad", {
      ready: "False", check: (h) => h.status?.lastHandledResetAt === "x1" && stalled(h) && cond(h, "Stalled")!.message === "Failed to upgrade after 1 attempt(s)",
    });
    expect(again.status!.upgradeFailures).to.equal(1);
    expect(again.status!.installFailures).to.equal(undefined);
    expect(await releaseSecrets(suite.ctl.client, ns, "bad")).to.deep.equal(["sh.helm.release.v1.bad.v1", "sh.helm.release.v1.bad.v2"]);
  });
});
