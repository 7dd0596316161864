import { expect } from "chai";
import { HelmRepository } from "../../../controllers/api/source/v1/helm-repository";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { findFreePort } from "../../support/git-cli";
import { HelmRepoServer } from "../../support/helm-repo";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

describe("HelmRepository: bad input and faults", function () {
  let ctl: RunningControllers;
  let repo: HelmRepoServer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
  });
  after(async () => { await ctl?.stop(); await repo?.close(); });

  it("reports an unreachable repository and a URL without an index", async function () {
    const ns = await newNamespace();
    const port = await findFreePort();
    await createSource(ctl, helmRepositories, ns, "down", { url: `http://127.0.0.1:${port}/charts` });
    await createSource(ctl, helmRepositories, ns, "noindex", { url: `${repo.url}/nothing` });
    const down = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "down", { ready: "False", reason: "Failed",
      message: new RegExp(`failed to fetch Helm repository index: .*connection refused \\(is the server running at 127\\.0\\.0\\.1:${port}\\?\\)`) });
    expect(conditionOf(down, "FetchFailed")).to.include({ status: "True", reason: "Failed" });
    expect(conditionOf(down, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    await waitForSource(ctl.client, helmRepositories, ns, "noindex", { ready: "False", reason: "Failed",
      message: /failed to fetch http:\/\/127\.0\.0\.1:\d+\/nothing\/index\.yaml : 404 Not Found/ });
  });

  it("reports an index that is not a Helm index as IndexationFailed", async function () {
    const ns = await newNamespace();
    const bad = await HelmRepoServer.start();
    try {
      bad.write("index.yaml", "just: some yaml\n");
      await createSource(ctl, helmRepositories, ns, "bad", { url: bad.url });
      await waitForSource(ctl.client, helmRepositories, ns, "bad", { ready: "False", reason: "IndexationFailed",
        message: /failed to load Helm repository from index YAML: no API version specified/ });
    } finally { await bad.close(); }
  });

  it("stalls on an oci:// URL without type oci", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "oci", { url: "oci://ghcr.io/org/charts" });
    const r = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "oci", { ready: "False", reason: "URLInvalid",
      message: /'oci' URL scheme cannot be used with 'default' HelmRepository type; set spec\.type: oci/ });
    expect(conditionOf(r, "Stalled")).to.include({ status: "True", reason: "URLInvalid" });
  });

  it("keeps the last index artifact while the repository is down, and recovers", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "r", { url: repo.url });
    const good = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "r", { ready: "True" });
    await repo.stop();
    try {
      await requestReconcile(ctl.client, helmRepositories, ns, "r", "down");
      const down = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "r", { ready: "False", message: /connection refused/ });
      expect(down.status!.artifact).to.deep.equal(good.status!.artifact);
      expect((await fetch(good.status!.artifact!.url)).status).to.equal(200);
      await repo.addChart("app", "1.1.0");
    } finally {
      await repo.start();
    }
    await requestReconcile(ctl.client, helmRepositories, ns, "r", "up");
    const up = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "r", { ready: "True", handled: "up" }, 60000);
    expect(up.status!.artifact!.revision).not.to.equal(good.status!.artifact!.revision);
  });

  it("keeps serving other objects while one fails", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "broken", { url: `http://127.0.0.1:${await findFreePort()}` });
    await createSource(ctl, helmRepositories, ns, "fine", { url: repo.url });
    await waitForSource(ctl.client, helmRepositories, ns, "fine", { ready: "True" });
    await waitForSource(ctl.client, helmRepositories, ns, "broken", { ready: "False" });
  });
});
