// HelmRelease spec.dependsOn: a release waits (Ready=False DependencyNotReady, requeued at the
// dependency interval) until every HelmRelease it names exists and is Ready at its latest
// generation; a CEL readyExpr (`self`, `dep`) decides in place of that check, and one that
// does not compile stalls the release (InvalidCELExpression).
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { appChartSuite, cond, createRelease, expectSettled, helmReleases, releaseSecrets, waitForRelease } from "./support";

describe("HelmRelease: dependsOn", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  const helmRepository = (ns: string) => suite.helmRepository(ns);
  const chart = () => suite.chart();

  it("waits for a missing, then not ready, dependency and installs once it is Ready", async () => {
    const ns = await newNamespace("hr-deps");
    const other = await newNamespace("hr-deps-other");
    await helmRepository(ns);
    await helmRepository(other);
    await createRelease(suite.ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend", namespace: other }] });
    let hr = await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady" });
    expect(cond(hr, "Ready")!.message).to.equal(`unable to get '${other}/backend' dependency: helmreleases.helm.toolkit.fluxcd.io "backend" not found`);
    expect(hr.status?.history).to.equal(undefined);

    // Exists but never reconciled (suspended): not ready.
    await createRelease(suite.ctl, other, "backend", { chart: chart(), suspend: true });
    hr = await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady", check: (h) => /is not ready$/.test(cond(h, "Ready")!.message) });
    expect(cond(hr, "Ready")!.message).to.equal(`dependency '${other}/backend' is not ready`);
    expect(await releaseSecrets(suite.ctl.client, ns, "frontend")).to.deep.equal([]);

    await suite.ctl.client.patch(helmReleases, { namespace: other, name: "backend" }, { spec: { suspend: false } });
    const backend = await waitForRelease(suite.ctl.client, other, "backend", { ready: "True", reason: "InstallSucceeded" });
    const frontend = await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(frontend);
    expect(Date.parse(frontend.status!.history![0].firstDeployed)).to.be.at.least(Date.parse(backend.status!.history![0].firstDeployed));
  });

  it("waits while the dependency is not Ready at its latest generation", async () => {
    const ns = await newNamespace("hr-deps-gen");
    await helmRepository(ns);
    await createRelease(suite.ctl, ns, "backend", { chart: chart() });
    await waitForRelease(suite.ctl.client, ns, "backend", { ready: "True" });
    // A new generation whose upgrade fails: the backend is no longer Ready.
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "backend" }, { spec: { values: { service: { type: "Bogus" } } } });
    await waitForRelease(suite.ctl.client, ns, "backend", { ready: "False", reason: "UpgradeFailed" });
    await createRelease(suite.ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend" }] });
    const hr = await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady" });
    expect(cond(hr, "Ready")!.message).to.equal(`dependency '${ns}/backend' is not ready`);
    // Still waiting after a few dependency requeues (1s here).
    await new Promise((r) => setTimeout(r, 3000));
    expect(await releaseSecrets(suite.ctl.client, ns, "frontend")).to.deep.equal([]);
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "backend" }, { spec: { values: { service: { type: "ClusterIP" } } } });
    await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "True", reason: "InstallSucceeded" });
  });

  it("waits until the readyExpr holds, in place of the Ready check (Flux's lockstep example)", async () => {
    const ns = await newNamespace("hr-deps-cel");
    await helmRepository(ns);
    // Suspended, so never Ready: only the readyExpr can let the frontend through.
    await createRelease(suite.ctl, ns, "backend", { chart: chart(), suspend: true, values: { app: { version: "v1.2.3" } } });
    await createRelease(suite.ctl, ns, "frontend", {
      chart: chart(), values: { app: { version: "v1.2.4" } },
      dependsOn: [{ name: "backend", readyExpr: "dep.spec.values.app.version == self.spec.values.app.version && dep.spec.suspend == true" }],
    });
    const hr = await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady" });
    expect(cond(hr, "Ready")!.message).to.equal(`dependency '${ns}/backend' is not ready according to readyExpr eval`);
    expect(await releaseSecrets(suite.ctl.client, ns, "frontend")).to.deep.equal([]);
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "backend" }, { spec: { values: { app: { version: "v1.2.4" } } } });
    expectSettled(await waitForRelease(suite.ctl.client, ns, "frontend", { ready: "True", reason: "InstallSucceeded" }));
    expect(await releaseSecrets(suite.ctl.client, ns, "backend"), "the dependency itself was never installed").to.deep.equal([]);
  });

  it("stalls on a readyExpr that does not compile", async () => {
    const ns = await newNamespace("hr-deps-cel-bad");
    await createRelease(suite.ctl, ns, "backend", { chart: chart(), suspend: true });
    await createRelease(suite.ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend", readyExpr: "dep.status.observedGeneration >" }] });
    const hr = await eventually(async () => {
      const x = await suite.ctl.client.get<import("../../../controllers/api/helm/v2/helm-release").HelmRelease>(helmReleases, { namespace: ns, name: "frontend" });
      return cond(x, "Stalled")?.status === "True" ? x : undefined;
    }, { what: "Stalled" });
    expect(cond(hr, "Ready")).to.include({ status: "False", reason: "InvalidCELExpression" });
    expect(cond(hr, "Stalled")!.message).to.equal("Reconciliation failed terminally due to configuration error: failed to evaluate dependency backend: failed to parse the CEL expression 'dep.status.observedGeneration >': unexpected end of expression");
  });
});
