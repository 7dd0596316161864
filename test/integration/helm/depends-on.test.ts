// HelmRelease spec.dependsOn: a release waits (Ready=False DependencyNotReady, requeued at the
// dependency interval) until every HelmRelease it names exists and is Ready at its latest
// generation; a CEL readyExpr is refused with a stall.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { createSource, waitForSource } from "../../support/oci-registry";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { cond, createRelease, expectSettled, helmReleases, releaseSecrets, startHelm, waitForRelease } from "./support";

describe("HelmRelease: dependsOn", function () {
  this.timeout(120000);
  let ctl: RunningControllers;
  let helm: { stop(): Promise<void> };
  let repo: HelmRepoServer;
  before(async function () {
    ctl = await startControllers();
    helm = await startHelm(ctl);
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
  });
  after(async () => { await helm?.stop(); await ctl?.stop(); await repo?.close(); });

  async function helmRepository(ns: string): Promise<void> {
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url });
    await waitForSource(ctl.client, helmRepositories, ns, "charts", { ready: "True" });
  }
  const chart = () => ({ metadata: { labels: ctl.labels }, spec: { chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } } });

  it("waits for a missing, then not ready, dependency and installs once it is Ready", async () => {
    const ns = await newNamespace("hr-deps");
    const other = await newNamespace("hr-deps-other");
    await helmRepository(ns);
    await helmRepository(other);
    await createRelease(ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend", namespace: other }] });
    let hr = await waitForRelease(ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady" });
    expect(cond(hr, "Ready")!.message).to.equal(`unable to get '${other}/backend' dependency: helmreleases.helm.toolkit.fluxcd.io "backend" not found`);
    expect(hr.status?.history).to.equal(undefined);

    // Exists but never reconciled (suspended): not ready.
    await createRelease(ctl, other, "backend", { chart: chart(), suspend: true });
    hr = await waitForRelease(ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady", check: (h) => /is not ready$/.test(cond(h, "Ready")!.message) });
    expect(cond(hr, "Ready")!.message).to.equal(`dependency '${other}/backend' is not ready`);
    expect(await releaseSecrets(ctl.client, ns, "frontend")).to.deep.equal([]);

    await ctl.client.patch(helmReleases, { namespace: other, name: "backend" }, { spec: { suspend: false } });
    const backend = await waitForRelease(ctl.client, other, "backend", { ready: "True", reason: "InstallSucceeded" });
    const frontend = await waitForRelease(ctl.client, ns, "frontend", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(frontend);
    expect(Date.parse(frontend.status!.history![0].firstDeployed)).to.be.at.least(Date.parse(backend.status!.history![0].firstDeployed));
  });

  it("waits while the dependency is not Ready at its latest generation", async () => {
    const ns = await newNamespace("hr-deps-gen");
    await helmRepository(ns);
    await createRelease(ctl, ns, "backend", { chart: chart() });
    await waitForRelease(ctl.client, ns, "backend", { ready: "True" });
    // A new generation whose upgrade fails: the backend is no longer Ready.
    await ctl.client.patch(helmReleases, { namespace: ns, name: "backend" }, { spec: { values: { service: { type: "Bogus" } } } });
    await waitForRelease(ctl.client, ns, "backend", { ready: "False", reason: "UpgradeFailed" });
    await createRelease(ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend" }] });
    const hr = await waitForRelease(ctl.client, ns, "frontend", { ready: "False", reason: "DependencyNotReady" });
    expect(cond(hr, "Ready")!.message).to.equal(`dependency '${ns}/backend' is not ready`);
    // Still waiting after a few dependency requeues (1s here).
    await new Promise((r) => setTimeout(r, 3000));
    expect(await releaseSecrets(ctl.client, ns, "frontend")).to.deep.equal([]);
    await ctl.client.patch(helmReleases, { namespace: ns, name: "backend" }, { spec: { values: { service: { type: "ClusterIP" } } } });
    await waitForRelease(ctl.client, ns, "frontend", { ready: "True", reason: "InstallSucceeded" });
  });

  it("stalls on a readyExpr, which this controller does not evaluate", async () => {
    const ns = await newNamespace("hr-deps-cel");
    await createRelease(ctl, ns, "frontend", { chart: chart(), dependsOn: [{ name: "backend", readyExpr: "dep.status.observedGeneration > 0" }] });
    const hr = await eventually(async () => {
      const x = await ctl.client.get<import("../../../controllers/api/helm/v2/helm-release").HelmRelease>(helmReleases, { namespace: ns, name: "frontend" });
      return cond(x, "Stalled")?.status === "True" ? x : undefined;
    }, { what: "Stalled" });
    expect(cond(hr, "Ready")).to.include({ status: "False", reason: "InvalidCELExpression" });
    expect(cond(hr, "Stalled")!.message).to.equal(`Reconciliation failed terminally due to configuration error: dependency '${ns}/backend': readyExpr (CEL) is not supported by this controller`);
  });
});
