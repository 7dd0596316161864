import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { HelmChart } from "../../../controllers/api/source/v1/helm-chart";
import { gitRepositories } from "../../../controllers/source/git/gitrepository-reconciler";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { GitServers, startGitServers } from "../../support/git-server";
import { helmCreate, helmPackage } from "../../support/helm-repo";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

/** The files of a directory as `{ "<prefix>/<rel>": content }` for a commit. */
function filesOf(dir: string, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else out[`${prefix}/${r}`] = fs.readFileSync(path.join(dir, r), "utf8");
    }
  };
  walk("");
  return out;
}

async function chartFile(url: string, chart: string, file: string): Promise<string> {
  const tgz = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-chart-")), "c.tgz");
  fs.writeFileSync(tgz, Buffer.from(await (await fetch(url)).arrayBuffer()));
  return execFileSync("tar", ["-xzOf", tgz, `${chart}/${file}`], { encoding: "utf8" });
}

describe("HelmChart: charts from a GitRepository", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let packaged: Buffer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-charts-"));
    const app = await helmCreate(tmp, "app", "0.3.0", "replicaCount: 1\nlabel: base\n");
    const pkg = await helmPackage(await helmCreate(path.join(tmp, "p"), "packed", "4.5.6"), tmp);
    packaged = fs.readFileSync(pkg);
    git = await startGitServers({ http: {}, files: { ...filesOf(app, "charts/app"), "env/prod.yaml": "replicaCount: 5\n", "README.md": "charts\n" } });
    // Binary files cannot go through commitFiles' text API: write the packaged chart directly.
    fs.mkdirSync(path.join(git.fixture.workDir, "dist"), { recursive: true });
    fs.writeFileSync(path.join(git.fixture.workDir, "dist", "packed-4.5.6.tgz"), packaged);
    await git.fixture.commitFiles({ "dist/.keep": "" }, "add packaged chart");
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  async function gitRepo(ns: string): Promise<string> {
    await createSource(ctl, gitRepositories, ns, "repo", { url: git.http!.url(), ref: { branch: "main" } });
    const r = await waitForSource<{ metadata: object; status?: { artifact?: { revision: string } } }>(ctl.client, gitRepositories, ns, "repo", { ready: "True" });
    return r.status!.artifact!.revision;
  }

  it("packages a chart directory with helm, revision = chart version", async function () {
    const ns = await newNamespace();
    const rev = await gitRepo(ns);
    await createSource(ctl, helmCharts, ns, "app", { chart: "./charts/app", sourceRef: { kind: "GitRepository", name: "repo" } });
    const c = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "0.3.0" }, 60000);
    expect(c.status!.artifact!.path).to.equal(`helmchart/${ns}/app/app-0.3.0.tgz`);
    expect(conditionOf(c, "Ready")).to.include({ reason: "ChartPackageSucceeded", message: "packaged 'app' chart with version '0.3.0'" });
    expect(c.status!.observedSourceArtifactRevision).to.equal(rev);
    expect(parse(await chartFile(c.status!.artifact!.url, "app", "Chart.yaml"))).to.include({ name: "app", version: "0.3.0" });
  });

  it("stores a packaged chart from the repository as is", async function () {
    const ns = await newNamespace();
    await gitRepo(ns);
    await createSource(ctl, helmCharts, ns, "packed", { chart: "dist/packed-4.5.6.tgz", sourceRef: { kind: "GitRepository", name: "repo" } });
    const c = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "packed", { ready: "True", revision: "4.5.6" }, 60000);
    expect(conditionOf(c, "Ready")).to.include({ reason: "ChartPullSucceeded", message: "pulled 'packed' chart with version '4.5.6'" });
    const stored = Buffer.from(await (await fetch(c.status!.artifact!.url)).arrayBuffer());
    expect(stored.equals(packaged)).to.equal(true);
  });

  it("adds the source revision with reconcileStrategy Revision and merges values files from the source root", async function () {
    const ns = await newNamespace();
    const rev = await gitRepo(ns);
    const sha12 = rev.split("sha1:")[1].slice(0, 12);
    await createSource(ctl, helmCharts, ns, "rev", { chart: "charts/app", reconcileStrategy: "Revision", sourceRef: { kind: "GitRepository", name: "repo" } });
    await createSource(ctl, helmCharts, ns, "prod", { chart: "charts/app", valuesFiles: ["charts/app/values.yaml", "env/prod.yaml", "env/missing.yaml"],
      ignoreMissingValuesFiles: true, sourceRef: { kind: "GitRepository", name: "repo" } });
    await waitForSource(ctl.client, helmCharts, ns, "rev", { ready: "True", revision: `0.3.0+${sha12}` }, 60000);
    const prod = await waitForSource<HelmChart>(ctl.client, helmCharts, ns, "prod", { ready: "True", revision: "0.3.0+1" }, 60000);
    expect(prod.status!.observedValuesFiles).to.deep.equal(["charts/app/values.yaml", "env/prod.yaml"]);
    expect(parse(await chartFile(prod.status!.artifact!.url, "app", "values.yaml"))).to.deep.equal({ replicaCount: 5, label: "base" });
  });

  it("follows a new chart version committed to git (the GitRepository's new artifact re-queues the chart)", async function () {
    const ns = await newNamespace();
    await gitRepo(ns);
    await createSource(ctl, helmCharts, ns, "app", { chart: "charts/app", sourceRef: { kind: "GitRepository", name: "repo" } });
    await waitForSource(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "0.3.0" }, 60000);
    const chartYaml = fs.readFileSync(path.join(git.fixture.workDir, "charts/app/Chart.yaml"), "utf8").replace(/^version: .*$/m, "version: 0.4.0");
    await git.fixture.commitFiles({ "charts/app/Chart.yaml": chartYaml }, "bump chart");
    await requestReconcile(ctl.client, gitRepositories, ns, "repo", "bump");
    await waitForSource(ctl.client, helmCharts, ns, "app", { ready: "True", revision: "0.4.0" }, 60000);
  });
});
