import { expect } from "chai";
import { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { HelmChart } from "../../../controllers/api/source/v1/helm-chart";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { createSource, requestReconcile, waitForSource } from "../../support/oci-registry";
import {
  Deployment, cond, configMaps, createRelease, deployments, expectSettled, helmReleases, releaseSecrets, startHelm, waitForAvailable, waitForRelease,
} from "./support";


describe("HelmRelease: install, upgrade and uninstall with the real helm", function () {
  let ctl: RunningControllers;
  let helm: { stop(): Promise<void> };
  let repo: HelmRepoServer;
  before(async function () {
    this.timeout(120000);
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
  const chartTemplate = (version = "1.0.0") => ({
    metadata: { labels: ctl.labels },
    spec: { chart: "app", version, sourceRef: { kind: "HelmRepository", name: "charts" } },
  });

  it("installs from spec.chart through the HelmChart <namespace>-<name>, and the Deployment becomes Available", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await ctl.client.create(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "vals", namespace: ns }, data: { "values.yaml": "image:\n  tag: \"from-cm\"\n" } } as never);
    await createRelease(ctl, ns, "web", {
      chart: chartTemplate(),
      valuesFrom: [{ kind: "ConfigMap", name: "vals" }],
      values: { podAnnotations: { team: "a" } },
    });
    const hr = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(hr);
    expect(cond(hr, "Ready")!.message).to.equal(`Helm install succeeded for release ${ns}/web.v1 with chart app@1.0.0`);
    expect(cond(hr, "Released")).to.include({ status: "True", reason: "InstallSucceeded" });
    const st = hr.status!;
    expect(st.helmChart).to.equal(`${ns}/${ns}-web`);
    expect(st.lastAttemptedRevision).to.equal("1.0.0");
    expect(st.lastAttemptedReleaseAction).to.equal("install");
    expect(st.lastAttemptedValuesChecksum).to.match(/^[0-9a-f]{40}$/);
    expect(st.lastAttemptedConfigDigest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(st.storageNamespace).to.equal(ns);
    expect(st.history).to.have.length(1);
    expect(st.history![0]).to.include({ name: "web", namespace: ns, version: 1, status: "deployed", chartName: "app", chartVersion: "1.0.0", appVersion: "1.16.0" });
    expect(st.history![0].configDigest).to.equal(st.lastAttemptedConfigDigest);
    expect(st.history![0].digest).to.match(/^sha256:[0-9a-f]{64}$/);
    // Flux's event metadata, which notification-controller forwards: chart version as revision,
    // the config digest as token (the de-duplication key), the app version.
    const installEvent = await eventually(async () => (await ctl.client.list<{ metadata: { annotations?: Record<string, string> }; reason?: string; involvedObject?: { name?: string } }>(
      { group: "", version: "v1", plural: "events", kind: "Event" }, { namespace: ns })).items.find((e) => e.reason === "InstallSucceeded" && e.involvedObject?.name === "web"), { what: "the InstallSucceeded event" });
    expect(installEvent.metadata.annotations).to.include({ "helm.toolkit.fluxcd.io/revision": "1.0.0", "helm.toolkit.fluxcd.io/token": st.lastAttemptedConfigDigest, "helm.toolkit.fluxcd.io/app-version": "1.16.0" });
    expect(st.history![0].firstDeployed).to.be.a("string");

    const hc = await ctl.client.get<HelmChart>(helmCharts, { namespace: ns, name: `${ns}-web` });
    expect(hc!.spec).to.deep.include({ chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } });
    const d = await waitForAvailable(ctl.client, ns, "web-app");
    const tpl = (d as unknown as { spec: { template: { metadata: { annotations?: Record<string, string> }; spec: { containers: Array<{ image: string }> } } } }).spec.template;
    expect(tpl.spec.containers[0].image).to.equal("nginx:from-cm");
    expect(tpl.metadata.annotations?.team).to.equal("a");
  });

  it("upgrades when values change, and makes no new revision when nothing changed", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createRelease(ctl, ns, "web", { chart: chartTemplate() });
    await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });

    await requestReconcile(ctl.client, helmReleases, ns, "web", "now-1");
    const same = await waitForRelease(ctl.client, ns, "web", { ready: "True", check: (h) => h.status?.lastHandledReconcileAt === "now-1" });
    expect(same.status!.history).to.have.length(1);
    expect(await releaseSecrets(ctl.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);

    await ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { replicaCount: 2 } } });
    const up = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(up);
    expect(cond(up, "Ready")!.message).to.equal(`Helm upgrade succeeded for release ${ns}/web.v2 with chart app@1.0.0`);
    expect(up.status!.history!.map((h) => [h.version, h.status])).to.deep.equal([[2, "deployed"], [1, "superseded"]]);
    expect(up.status!.lastAttemptedReleaseAction).to.equal("upgrade");
    const d = await eventually(async () => {
      const x = await ctl.client.get<Deployment>(deployments, { namespace: ns, name: "web-app" });
      return x?.spec?.replicas === 2 ? x : undefined;
    }, { what: "2 replicas" });
    expect(d.spec!.replicas).to.equal(2);
    await waitForAvailable(ctl.client, ns, "web-app");
  });

  it("installs from spec.chartRef into targetNamespace with install.createNamespace", async function () {
    const ns = await newNamespace();
    const target = `${ns}-target`;
    await helmRepository(ns);
    await createSource(ctl, helmCharts, ns, "app", { chart: "app", sourceRef: { kind: "HelmRepository", name: "charts" } });
    await waitForSource(ctl.client, helmCharts, ns, "app", { ready: "True" });
    await createRelease(ctl, ns, "ref", { chartRef: { kind: "HelmChart", name: "app" }, targetNamespace: target, install: { createNamespace: true } });
    const hr = await waitForRelease(ctl.client, ns, "ref", { ready: "True", reason: "InstallSucceeded" });
    expect(hr.status!.history![0]).to.include({ name: `${target}-ref`, namespace: target, version: 1 });
    expect(hr.status!.helmChart).to.equal(undefined);
    await waitForAvailable(ctl.client, target, `${target}-ref-app`);
    await ctl.client.delete(helmReleases, { namespace: ns, name: "ref" });
    await eventually(async () => !(await ctl.client.get(deployments, { namespace: target, name: `${target}-ref-app` })), { what: "uninstalled", timeoutMs: 60000 });
    await ctl.client.delete({ group: "", version: "v1", plural: "namespaces", kind: "Namespace" }, { namespace: "", name: target });
  });

  it("reports helm's error when the install fails, stalls, and recovers with fixed values", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createRelease(ctl, ns, "bad", { chart: chartTemplate(), values: { service: { type: "Bogus" } } });
    const hr = await waitForRelease(ctl.client, ns, "bad", { ready: "False", reason: "InstallFailed", check: (h) => cond(h, "Stalled")?.status === "True" });
    expect(cond(hr, "Ready")!.message).to.match(new RegExp(`^Helm install failed for release ${ns}/bad with chart app@1.0.0: [\\s\\S]*Bogus`));
    expect(cond(hr, "Released")).to.include({ status: "False", reason: "InstallFailed" });
    expect(cond(hr, "Stalled")).to.include({ reason: "RetriesExceeded", message: "Failed to install after 1 attempt(s)" });
    expect(hr.status!.installFailures).to.equal(1);
    expect(hr.status!.history![0]).to.include({ version: 1, status: "failed" });
    expect(hr.status!.observedGeneration).to.equal(hr.metadata.generation);

    await ctl.client.patch(helmReleases, { namespace: ns, name: "bad" }, { spec: { values: { service: { type: "ClusterIP" } } } });
    const fixed = await waitForRelease(ctl.client, ns, "bad", { ready: "True", reason: "UpgradeSucceeded" });
    expectSettled(fixed);
    expect(fixed.status!.history!.map((h) => [h.version, h.status])).to.deep.equal([[2, "deployed"], [1, "failed"]]);
    expect(fixed.status!.installFailures).to.equal(undefined);
    await waitForAvailable(ctl.client, ns, "bad-app");
  });

  it("uninstalls on deletion and deletes the HelmChart; keepHistory keeps Helm's records", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createRelease(ctl, ns, "gone", { chart: chartTemplate() });
    await createRelease(ctl, ns, "kept", { chart: chartTemplate(), uninstall: { keepHistory: true } });
    await waitForRelease(ctl.client, ns, "gone", { ready: "True" });
    await waitForRelease(ctl.client, ns, "kept", { ready: "True" });
    await ctl.client.delete(helmReleases, { namespace: ns, name: "gone" });
    await ctl.client.delete(helmReleases, { namespace: ns, name: "kept" });
    for (const name of ["gone", "kept"]) {
      await eventually(async () => !(await ctl.client.get(helmReleases, { namespace: ns, name })), { what: `${name} deleted`, timeoutMs: 60000 });
      // The HelmChart carries the source-controller's finalizer: it goes once that controller has run.
      await eventually(async () => !(await ctl.client.get(deployments, { namespace: ns, name: `${name}-app` })), { what: `${name}-app uninstalled`, timeoutMs: 60000 });
      await eventually(async () => !(await ctl.client.get(helmCharts, { namespace: ns, name: `${ns}-${name}` })), { what: `HelmChart of ${name} deleted`, timeoutMs: 60000 });
    }
    expect(await releaseSecrets(ctl.client, ns, "gone")).to.deep.equal([]);
    expect(await releaseSecrets(ctl.client, ns, "kept")).to.deep.equal(["sh.helm.release.v1.kept.v1"]);
  });

  it("is deleted at once after an install refused for its release name (nothing was stored to uninstall)", async function () {
    // Found by the CRD-input property test: Helm refuses "fY00" at install and at uninstall alike,
    // so a retried uninstall would hold the finalizer forever.
    const ns = await newNamespace();
    await helmRepository(ns);
    await createRelease(ctl, ns, "badname", { chart: chartTemplate(), releaseName: "fY00", install: { remediation: { retries: 0 } } });
    const hr = await waitForRelease(ctl.client, ns, "badname", { ready: "False", reason: "InstallFailed" });
    expect(cond(hr, "Ready")!.message).to.match(/release name is invalid: fY00/i);
    await ctl.client.delete(helmReleases, { namespace: ns, name: "badname" });
    await eventually(async () => !(await ctl.client.get(helmReleases, { namespace: ns, name: "badname" })), { what: "badname deleted", timeoutMs: 30000 });
  });

  it("does nothing while suspended", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createRelease(ctl, ns, "idle", { chart: chartTemplate(), suspend: true });
    // The finalizer is added before the suspend check: once it is there, the reconcile ran.
    const hr = await eventually(async () => {
      const x = await ctl.client.get<HelmRelease>(helmReleases, { namespace: ns, name: "idle" });
      return x?.metadata.finalizers?.includes("finalizers.fluxcd.io") ? x : undefined;
    }, { what: "finalizer added" });
    expect(hr!.status?.history).to.equal(undefined);
    expect(await ctl.client.get(helmCharts, { namespace: ns, name: `${ns}-idle` })).to.equal(undefined);
    await ctl.client.patch(helmReleases, { namespace: ns, name: "idle" }, { spec: { suspend: false } });
    await waitForRelease(ctl.client, ns, "idle", { ready: "True", reason: "InstallSucceeded" });
  });
});
