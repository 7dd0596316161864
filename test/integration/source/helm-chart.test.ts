import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { HelmChart } from "../../../controllers/api/source/v1/helm-chart";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

/** Reads `<chart>/<file>` out of a chart archive served at `url`. */
async function fileInChart(url: string, chart: string, file: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).to.equal(200);
  const tgz = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-chart-")), "c.tgz");
  fs.writeFileSync(tgz, Buffer.from(await res.arrayBuffer()));
  return execFileSync("tar", ["-xzOf", tgz, `${chart}/${file}`], { encoding: "utf8" });
}

describe("HelmChart: charts from a HelmRepository", function () {
  let ctl: RunningControllers;
  let repo: HelmRepoServer;
  let v110: string;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0", "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"1.0\"\n");
    v110 = await repo.addChart("app", "1.1.0", "replicaCount: 1\nimage:\n  repository: nginx\n  tag: \"1.1\"\n");
    await repo.addChart("app", "2.0.0-rc.1");
    fs.mkdirSync(path.join(repo.dir, "values"), { recursive: true });
  });
  after(async () => { await ctl?.stop(); await repo?.close(); });

  async function helmRepository(ns: string): Promise<void> {
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url });
    await waitForSource(ctl.client, helmRepositories, ns, "charts", { ready: "True" });
  }

  it("pulls the latest stable version as is, with Flux's revision, path and Ready message", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createSource(ctl, helmCharts, ns, "app", { chart: "app", sourceRef: { kind: "HelmRepository", name: "charts" } });
    const c = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "1.1.0" });
    const a = c.status!.artifact!;
    expect(a.path).to.equal(`helmchart/${ns}/app/app-1.1.0.tgz`);
    expect(a.digest).to.equal(`sha256:${createHash("sha256").update(fs.readFileSync(v110)).digest("hex")}`);
    expect(conditionOf(c, "Ready")).to.include({ reason: "ChartPullSucceeded", message: "pulled 'app' chart with version '1.1.0'" });
    expect(conditionOf(c, "ArtifactInStorage")).to.include({ status: "True", reason: "ChartPullSucceeded" });
    expect(c.status!.observedChartName).to.equal("app");
    expect(c.status!.observedSourceArtifactRevision).to.match(/^sha256:[0-9a-f]{64}$/);
  });

  it("honours a semver range and follows a new version published to the repository", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    await createSource(ctl, helmCharts, ns, "one", { chart: "app", version: "1.0.x", sourceRef: { kind: "HelmRepository", name: "charts" } });
    await createSource(ctl, helmCharts, ns, "pre", { chart: "app", version: ">=2.0.0-0", sourceRef: { kind: "HelmRepository", name: "charts" } });
    await waitForSource(ctl.client, helmCharts, ns, "one", { ready: "True", revision: "1.0.0" });
    await waitForSource(ctl.client, helmCharts, ns, "pre", { ready: "True", revision: "2.0.0-rc.1" });
    await repo.addChart("app", "1.0.1");
    // A new index artifact re-queues the charts that use the repository.
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "new-version");
    await waitForSource(ctl.client, helmCharts, ns, "one", { ready: "True", revision: "1.0.1" });
  });

  it("merges valuesFiles from the chart and repackages as <version>+<generation>", async function () {
    const ns = await newNamespace();
    await helmRepository(ns);
    const withProd = path.join(repo.dir, "src", "app-1.1.0", "app");
    fs.writeFileSync(path.join(withProd, "values-prod.yaml"), "replicaCount: 3\nimage:\n  tag: \"prod\"\n");
    const { helmPackage } = await import("../../support/helm-repo");
    await helmPackage(withProd, repo.www);
    await repo.reindex();
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "prod-values");
    await createSource(ctl, helmCharts, ns, "prod", { chart: "app", version: "1.1.0", valuesFiles: ["values.yaml", "values-prod.yaml"], sourceRef: { kind: "HelmRepository", name: "charts" } });
    const c = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "prod", { ready: "True", revision: "1.1.0+1" }, 60000);
    expect(c.status!.artifact!.path).to.equal(`helmchart/${ns}/prod/app-1.1.0+1.tgz`);
    expect(conditionOf(c, "Ready")).to.include({ reason: "ChartPackageSucceeded",
      message: "packaged 'app' chart with version '1.1.0+1' and merged values files [values.yaml values-prod.yaml]" });
    const values = parse(await fileInChart(c.status!.artifact!.url, "app", "values.yaml"));
    expect(values.replicaCount).to.equal(3);
    expect(values.image).to.deep.equal({ repository: "nginx", tag: "prod" });
    expect(parse(await fileInChart(c.status!.artifact!.url, "app", "Chart.yaml")).version).to.equal("1.1.0+1");
  });

  it("downloads with the repository's credentials", async function () {
    const ns = await newNamespace();
    const locked = await HelmRepoServer.start({ basicAuth: { username: "u", password: "p" } });
    try {
      await locked.addChart("private", "0.1.0");
      await ctl.client.create({ group: "", version: "v1", plural: "secrets", kind: "Secret" },
        { apiVersion: "v1", kind: "Secret", metadata: { name: "creds", namespace: ns }, stringData: { username: "u", password: "p" } } as never);
      await createSource(ctl, helmRepositories, ns, "locked", { url: locked.url, secretRef: { name: "creds" } });
      await createSource(ctl, helmCharts, ns, "private", { chart: "private", sourceRef: { kind: "HelmRepository", name: "locked" } });
      await waitForSource(ctl.client, helmCharts, ns, "private", { ready: "True", revision: "0.1.0" });
      expect(locked.count("GET", /^\/private-0\.1\.0\.tgz$/)).to.equal(1);
    } finally {
      await locked.close();
    }
  });
});
