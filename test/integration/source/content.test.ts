import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { createGitRepository, gitRepos, waitFor } from "./support";

async function artifactFiles(r: GitRepository): Promise<string[]> {
  const res = await fetch(r.status!.artifact!.url);
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-t-")), "a.tar.gz");
  fs.writeFileSync(f, Buffer.from(await res.arrayBuffer()));
  return execFileSync("tar", ["-tzf", f], { encoding: "utf8" }).split("\n").filter((e) => e && !e.endsWith("/")).sort();
}

describe("GitRepository: artifact content (ignore, .sourceignore, include, sparse checkout)", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: {
      "deploy/app.yaml": "a: 1\n", "deploy/notes.md": "n\n", "docs/guide.md": "g\n", "charts/c/Chart.yaml": "name: c\n",
      "apps/.sourceignore": "*.md\n", "apps/x/readme.md": "r\n", "apps/x/app.yaml": "x: 1\n", "root.md": "keep\n",
    } });
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  it("honours .sourceignore files in subdirectories, relative to their directory", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" } });
    const files = await artifactFiles(await waitFor(ctl.client, ns, "r", { ready: "True" }));
    expect(files).to.include.members(["apps/x/app.yaml", "root.md", "deploy/notes.md"]);
    expect(files).to.not.include("apps/x/readme.md");
  });

  it("applies spec.ignore over the defaults and records observedIgnore; a change rebuilds", async function () {
    const ns = await newNamespace();
    const ignore = "/*\n!/deploy\n/deploy/**/*.md\n";
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, ignore });
    const r = await waitFor(ctl.client, ns, "r", { ready: "True" });
    expect(await artifactFiles(r)).to.deep.equal(["deploy/app.yaml"]);
    expect(r.status!.observedIgnore).to.equal(ignore);
    await ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { spec: { ignore: "/*\n!/docs\n" } });
    const r2 = await eventually(async () => {
      const g = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "r" });
      return g?.status?.observedIgnore === "/*\n!/docs\n" ? g : undefined;
    }, { what: "rebuilt with the new ignore rules" });
    expect(await artifactFiles(r2)).to.deep.equal(["docs/guide.md"]);
    expect(r2.status!.artifact!.digest).to.not.equal(r.status!.artifact!.digest);
  });

  it("checks out only the sparse directories", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, sparseCheckout: ["charts"] });
    const r = await waitFor(ctl.client, ns, "r", { ready: "True" });
    expect(await artifactFiles(r)).to.deep.equal(["charts/c/Chart.yaml"]);
    expect(r.status!.observedSparseCheckout).to.deep.equal(["charts"]);
  });

  it("includes another GitRepository's artifact at toPath, and rebuilds when it changes", async function () {
    const ns = await newNamespace();
    const other = await startGitServers({ http: {}, files: { "manifests/svc.yaml": "s: 1\n", "other.txt": "o\n" } });
    try {
      await createGitRepository(ctl, ns, "lib", { url: other.http!.url(), ref: { branch: "main" } });
      await createGitRepository(ctl, ns, "app", {
        url: git.http!.url(), ref: { branch: "main" }, ignore: "/*\n!/deploy\n",
        include: [{ repository: { name: "lib" }, fromPath: "manifests", toPath: "deploy/lib" }],
      });
      const r = await waitFor(ctl.client, ns, "app", { ready: "True" });
      expect(await artifactFiles(r)).to.deep.equal(["deploy/app.yaml", "deploy/lib/svc.yaml", "deploy/notes.md"]);
      expect(r.status!.includedArtifacts).to.have.length(1);
      expect(r.status!.observedInclude).to.deep.equal([{ repository: { name: "lib" }, fromPath: "manifests", toPath: "deploy/lib" }]);

      await other.fixture.commitFiles({ "manifests/extra.yaml": "e: 1\n" }, "more");
      await ctl.client.patch(gitRepos, { namespace: ns, name: "lib" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "1" } } });
      const r2 = await eventually(async () => {
        const g = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
        return g?.status?.artifact?.digest !== r.status!.artifact!.digest ? g : undefined;
      }, { what: "including repository rebuilt after the included one changed" });
      expect(await artifactFiles(r2)).to.include("deploy/lib/extra.yaml");
    } finally {
      await other.close();
    }
  });

  it("reports an include that does not exist as IncludeUnavailable", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "app", { url: git.http!.url(), ref: { branch: "main" }, include: [{ repository: { name: "ghost" } }] });
    const r = await waitFor(ctl.client, ns, "app", { ready: "False", message: /could not get resource for include 'ghost'/ });
    expect(r.status!.conditions!.find((c) => c.type === "IncludeUnavailable")).to.include({ status: "True" });
  });
});
