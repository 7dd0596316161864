import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { HelmChart } from "../../../controllers/api/source/v1/helm-chart";
import { gitRepositories } from "../../../controllers/source/git/gitrepository-reconciler";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { GitServers, startGitServers } from "../../support/git-server";
import { HelmRepoServer } from "../../support/helm-repo";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

describe("HelmChart: bad input and faults", function () {
  let ctl: RunningControllers;
  let repo: HelmRepoServer;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
    git = await startGitServers({ http: {}, files: {
      "charts/novers/Chart.yaml": "apiVersion: v2\nname: novers\n",
      "charts/broken/Chart.yaml": "apiVersion: v2\nname: broken\nversion: 0.1.0\n",
      "charts/broken/templates/bad.yaml": "{{ .Values.x | nope }}\n",
      "charts/baddep/Chart.yaml": "apiVersion: v2\nname: baddep\nversion: 0.1.0\ndependencies:\n  - name: sub\n    version: 1.0.0\n    repository: file://../does-not-exist\n",
    } });
  });
  after(async () => { await ctl?.stop(); await repo?.close(); await git?.close(); });

  async function sources(ns: string): Promise<void> {
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url });
    await createSource(ctl, gitRepositories, ns, "git", { url: git.http!.url(), ref: { branch: "main" } });
    await waitForSource(ctl.client, helmRepositories, ns, "charts", { ready: "True" });
    await waitForSource(ctl.client, gitRepositories, ns, "git", { ready: "True" });
  }
  const chart = (ns: string, name: string, spec: Record<string, unknown>) => createSource(ctl, helmCharts, ns, name, spec);
  const fromRepo = { kind: "HelmRepository", name: "charts" };
  const fromGit = { kind: "GitRepository", name: "git" };

  it("stalls on a version no chart has, a chart the index lacks, and a missing values file", async function () {
    const ns = await newNamespace();
    await sources(ns);
    await chart(ns, "nover", { chart: "app", version: "9.*", sourceRef: fromRepo });
    await chart(ns, "noname", { chart: "nope", sourceRef: fromRepo });
    await chart(ns, "novalues", { chart: "app", valuesFiles: ["values-prod.yaml"], sourceRef: fromRepo });
    const nover = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "nover", { ready: "False", reason: "InvalidChartReference",
      message: /^invalid chart reference: failed to get chart version for remote reference: no 'app' chart with version matching '9\.\*' found$/ });
    expect(conditionOf(nover, "Stalled")).to.include({ status: "True", reason: "InvalidChartReference" });
    expect(conditionOf(nover, "FetchFailed")).to.include({ status: "True" });
    await waitForSource(ctl.client, helmCharts, ns, "noname", { ready: "False", reason: "InvalidChartReference", message: /no chart name found \(the index has no chart 'nope'; it has: app\)/ });
    const nov = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "novalues", { ready: "False", reason: "ValuesFilesError",
      message: /values files merge error: no values file found at path 'values-prod\.yaml' \(reference 'values-prod\.yaml'\): fix spec\.valuesFiles or set spec\.ignoreMissingValuesFiles/ });
    expect(conditionOf(nov, "BuildFailed")).to.include({ status: "True", reason: "ValuesFilesError" });
  });

  it("reports invalid charts and chart paths in a GitRepository", async function () {
    const ns = await newNamespace();
    await sources(ns);
    await chart(ns, "missing", { chart: "charts/missing", sourceRef: fromGit });
    await chart(ns, "novers", { chart: "charts/novers", sourceRef: fromGit });
    await chart(ns, "baddep", { chart: "charts/baddep", sourceRef: fromGit });
    await waitForSource(ctl.client, helmCharts, ns, "missing", { ready: "False", reason: "InvalidChartReference", message: /chart path 'charts\/missing' not found in the artifact of GitRepository/ });
    await waitForSource(ctl.client, helmCharts, ns, "novers", { ready: "False", reason: "InvalidChartReference", message: /validation: chart\.metadata\.version is required/ });
    const dep = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "baddep", { ready: "False", reason: "DependencyBuildError", message: /dependency build error: failed to build dependencies sub/ });
    expect(conditionOf(dep, "BuildFailed")).to.include({ status: "True" });
  });

  it("reports a missing source, and a source without an artifact", async function () {
    const ns = await newNamespace();
    await chart(ns, "nosource", { chart: "app", sourceRef: { kind: "HelmRepository", name: "absent" } });
    await createSource(ctl, helmRepositories, ns, "unreachable", { url: "http://127.0.0.1:9/charts" });
    await chart(ns, "noartifact", { chart: "app", sourceRef: { kind: "HelmRepository", name: "unreachable" } });
    await waitForSource(ctl.client, helmCharts, ns, "nosource", { ready: "False", reason: "SourceUnavailable",
      message: /failed to get source: helmrepositories\.source\.toolkit\.fluxcd\.io "absent" not found/ });
    await waitForSource(ctl.client, helmCharts, ns, "noartifact", { ready: "False", reason: "NoSourceArtifact", message: /no artifact available for HelmRepository source 'unreachable'/ });
  });

  it("keeps the last chart artifact when the archive disappears or is corrupt, and recovers", async function () {
    const ns = await newNamespace();
    await sources(ns);
    await chart(ns, "app", { chart: "app", sourceRef: fromRepo });
    const good = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "1.0.0" });
    const tgz = await repo.addChart("app", "1.1.0");
    const body = fs.readFileSync(tgz);
    fs.rmSync(tgz);
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "missing-archive");
    const pull = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "False", reason: "ChartPullError",
      message: /chart pull error: failed to download chart for remote reference: failed to fetch http:\/\/127\.0\.0\.1:\d+\/app-1\.1\.0\.tgz : 404 Not Found/ });
    expect(pull.status!.artifact).to.deep.equal(good.status!.artifact);
    expect((await fetch(good.status!.artifact!.url)).status).to.equal(200);

    // The index still lists 1.1.0 with its digest: a corrupt archive fails the digest check...
    fs.writeFileSync(tgz, "not a tarball");
    await requestReconcile(ctl.client, helmCharts, ns, "app", "corrupt-archive");
    const corrupt = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "False", reason: "ChartPullError",
      message: /app-1\.1\.0\.tgz does not match the digest in the index \(index: sha256:[0-9a-f]{64}, downloaded: sha256:[0-9a-f]{64}\); re-index the repository/ }, 60000);
    expect(corrupt.status!.artifact).to.deep.equal(good.status!.artifact);
    // ...and without a digest in the index it is not a chart archive.
    repo.write("index.yaml", fs.readFileSync(path.join(repo.www, "index.yaml"), "utf8").replace(/^\s*digest: .*\n/gm, ""));
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "no-digest");
    const invalid = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "False", reason: "ChartPackageError",
      message: /chart package error: failed to load downloaded chart: .*not in gzip format/ }, 60000);
    expect(conditionOf(invalid, "BuildFailed")).to.include({ status: "True", reason: "ChartPackageError" });
    expect(invalid.status!.artifact).to.deep.equal(good.status!.artifact);

    fs.writeFileSync(tgz, body);
    await repo.reindex();
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "fixed");
    await waitForSource(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "1.1.0" }, 60000);
  });

  it("keeps serving other charts while one fails", async function () {
    const ns = await newNamespace();
    await sources(ns);
    await chart(ns, "broken", { chart: "charts/missing", sourceRef: fromGit });
    await chart(ns, "fine", { chart: "app", sourceRef: fromRepo });
    await waitForSource(ctl.client, helmCharts, ns, "fine", { ready: "True" });
    await waitForSource(ctl.client, helmCharts, ns, "broken", { ready: "False" });
    const fine = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "fine", { ready: "True" });
    expect(path.basename(fine.status!.artifact!.path)).to.match(/^app-1\.\d+\.0\.tgz$/);
  });
});
