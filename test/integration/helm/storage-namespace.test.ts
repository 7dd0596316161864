// HelmRelease spec.storageNamespace: helm keeps the release records there (helm's --namespace),
// while the objects go to the release namespace (targetNamespace, or the HelmRelease's) and
// `.Release.Namespace` renders as that namespace. Both default to the HelmRelease's namespace.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer, helmCreate, helmPackage } from "../../support/helm-repo";
import { createSource, waitForSource } from "../../support/oci-registry";
import { cond, configMaps, createRelease, deployments, expectSettled, helmReleases, releaseSecrets, startHelm, waitForAvailable, waitForRelease } from "./support";

type ConfigMap = KubeObject & { data?: Record<string, string> };

describe("HelmRelease: storageNamespace", function () {
  this.timeout(120000);
  let ctl: RunningControllers;
  let helm: { stop(): Promise<void> };
  let repo: HelmRepoServer;
  before(async function () {
    ctl = await startControllers();
    helm = await startHelm(ctl);
    repo = await HelmRepoServer.start();
    // `helm create` plus two ConfigMaps that show the release namespace: one without a
    // namespace, one with `namespace: {{ .Release.Namespace }}`.
    const dir = await helmCreate(path.join(repo.dir, "src"), "nsapp", "1.0.0");
    fs.writeFileSync(path.join(dir, "templates", "info.yaml"), [
      "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: {{ .Release.Name }}-info", "data:", "  releaseNamespace: {{ .Release.Namespace | quote }}",
      "---", "apiVersion: v1", "kind: ConfigMap", "metadata:", "  name: {{ .Release.Name }}-explicit", "  namespace: {{ .Release.Namespace }}",
      "data:", "  releaseNamespace: {{ .Release.Namespace | quote }}", ""].join("\n"));
    await helmPackage(dir, repo.www);
    await repo.reindex();
  });
  after(async () => { await helm?.stop(); await ctl?.stop(); await repo?.close(); });

  async function helmRepository(ns: string): Promise<void> {
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url });
    await waitForSource(ctl.client, helmRepositories, ns, "charts", { ready: "True" });
  }
  const chart = () => ({ metadata: { labels: ctl.labels }, spec: { chart: "nsapp", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } } });
  async function releaseNamespaceOf(ns: string, name: string): Promise<string | undefined> {
    return (await ctl.client.get<ConfigMap>(configMaps, { namespace: ns, name }))?.data?.releaseNamespace;
  }

  it("stores the release in storageNamespace and releases the objects into the HelmRelease's namespace", async () => {
    const ns = await newNamespace("hr-store");
    const storage = await newNamespace("hr-store-records");
    await helmRepository(ns);
    await createRelease(ctl, ns, "web", { chart: chart(), storageNamespace: storage });
    const hr = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(hr);
    expect(cond(hr, "Ready")!.message).to.equal(`Helm install succeeded for release ${ns}/web.v1 with chart nsapp@1.0.0`);
    expect(hr.status!.storageNamespace).to.equal(storage);
    expect(hr.status!.history![0]).to.include({ name: "web", namespace: ns, version: 1, status: "deployed" });
    expect(await releaseSecrets(ctl.client, storage, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(await releaseSecrets(ctl.client, ns, "web")).to.deep.equal([]);
    await waitForAvailable(ctl.client, ns, "web-nsapp");
    expect(await ctl.client.get(deployments, { namespace: storage, name: "web-nsapp" })).to.equal(undefined);
    expect(await releaseNamespaceOf(ns, "web-info")).to.equal(ns);
    expect(await releaseNamespaceOf(ns, "web-explicit")).to.equal(ns);
    expect(await ctl.client.get(configMaps, { namespace: storage, name: "web-explicit" })).to.equal(undefined);

    // Upgrades find the release in its storage namespace; in sync, nothing runs.
    await ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { replicaCount: 2 } } });
    const up = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "UpgradeSucceeded" });
    expect(up.status!.history!.map((h) => [h.namespace, h.version, h.status])).to.deep.equal([[ns, 2, "deployed"], [ns, 1, "superseded"]]);
    expect(await releaseSecrets(ctl.client, storage, "web")).to.deep.equal(["sh.helm.release.v1.web.v1", "sh.helm.release.v1.web.v2"]);
    await eventually(async () => (await ctl.client.get<KubeObject & { spec?: { replicas?: number } }>(deployments, { namespace: ns, name: "web-nsapp" }))?.spec?.replicas === 2,
      { what: "2 replicas" });

    // Deletion uninstalls from the storage namespace, removing the objects.
    await ctl.client.delete(helmReleases, { namespace: ns, name: "web" });
    await eventually(async () => !(await ctl.client.get(helmReleases, { namespace: ns, name: "web" })), { what: "HelmRelease deleted", timeoutMs: 60000 });
    expect(await releaseSecrets(ctl.client, storage, "web")).to.deep.equal([]);
    expect(await ctl.client.get(deployments, { namespace: ns, name: "web-nsapp" })).to.equal(undefined);
    expect(await ctl.client.get(configMaps, { namespace: ns, name: "web-info" })).to.equal(undefined);
  });

  it("uninstalls and installs anew when storageNamespace changes", async () => {
    const ns = await newNamespace("hr-store-move");
    const first = await newNamespace("hr-store-first");
    const second = await newNamespace("hr-store-second");
    await helmRepository(ns);
    await createRelease(ctl, ns, "web", { chart: chart(), storageNamespace: first });
    await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expect(await releaseSecrets(ctl.client, first, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    await ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { storageNamespace: second } });
    const hr = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded", check: (h) => h.status?.storageNamespace === second });
    expectSettled(hr);
    expect(hr.status!.history!.map((h) => [h.namespace, h.version, h.status])).to.deep.equal([[ns, 1, "deployed"]]);
    expect(await releaseSecrets(ctl.client, first, "web")).to.deep.equal([]);
    expect(await releaseSecrets(ctl.client, second, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    await waitForAvailable(ctl.client, ns, "web-nsapp");
  });

  it("with targetNamespace, stores the release in the HelmRelease's namespace by default; install.createNamespace creates the target", async () => {
    const ns = await newNamespace("hr-store-default");
    const target = `${ns}-apps`;
    await helmRepository(ns);
    await createRelease(ctl, ns, "web", { chart: chart(), targetNamespace: target, install: { createNamespace: true } });
    const hr = await waitForRelease(ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expect(hr.status!.storageNamespace).to.equal(ns);
    expect(hr.status!.history![0]).to.include({ name: `${target}-web`, namespace: target, version: 1 });
    expect(await releaseSecrets(ctl.client, ns, `${target}-web`)).to.deep.equal([`sh.helm.release.v1.${target}-web.v1`]);
    expect(await releaseSecrets(ctl.client, target, `${target}-web`)).to.deep.equal([]);
    await waitForAvailable(ctl.client, target, `${target}-web-nsapp`);
    expect(await releaseNamespaceOf(target, `${target}-web-info`)).to.equal(target);
    await ctl.client.delete(helmReleases, { namespace: ns, name: "web" });
    await eventually(async () => !(await ctl.client.get(deployments, { namespace: target, name: `${target}-web-nsapp` })), { what: "uninstalled", timeoutMs: 60000 });
    await ctl.client.delete({ group: "", version: "v1", plural: "namespaces", kind: "Namespace" }, { namespace: "", name: target });
  });
});
