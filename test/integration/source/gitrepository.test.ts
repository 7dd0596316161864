import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { createGitRepository, gitRepos, waitFor } from "./support";

async function fetchArtifact(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).to.equal(200);
  return Buffer.from(await res.arrayBuffer());
}

function listTar(buf: Buffer): string[] {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-t-")), "a.tar.gz");
  fs.writeFileSync(f, buf);
  return execFileSync("tar", ["-tzf", f], { encoding: "utf8" }).split("\n").filter((e) => e && !e.endsWith("/")).sort();
}

describe("GitRepository: artifacts from a branch", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: { "deploy/app.yaml": "kind: ConfigMap\n", "README.md": "hi\n", ".github/workflows/ci.yml": "x: 1\n", "logo.png": "png" } });
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  it("stores an artifact with Flux's status fields, served over HTTP with a matching digest", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
    const repo = await waitFor(ctl.client, ns, "app", { ready: "True", revision: `main@sha1:${git.initialCommit}` });
    const a = repo.status!.artifact!;
    expect(a.path).to.equal(`gitrepository/${ns}/app/${git.initialCommit}.tar.gz`);
    expect(a.url).to.match(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/gitrepository/${ns}/app/${git.initialCommit}\\.tar\\.gz$`));
    expect(a.digest).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(a.lastUpdateTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const body = await fetchArtifact(a.url);
    expect(body.length).to.equal(a.size);
    expect(`sha256:${createHash("sha256").update(body).digest("hex")}`).to.equal(a.digest);
    // Flux's default exclusions: CI configs and images are left out.
    expect(listTar(body)).to.deep.equal(["README.md", "deploy/app.yaml"]);
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-t-")), "a.tar.gz");
    fs.writeFileSync(f, body);
    expect(execFileSync("tar", ["-tzf", f], { encoding: "utf8" }), "no entries for excluded directories").to.not.contain(".github");
    const ready = repo.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready).to.include({ status: "True", reason: "Succeeded", message: `stored artifact for revision 'main@sha1:${git.initialCommit}'` });
    expect(repo.status!.conditions!.find((c) => c.type === "ArtifactInStorage")).to.include({ status: "True", reason: "Succeeded" });
    expect(repo.status!.observedGeneration).to.equal(repo.metadata.generation);
    expect(repo.metadata.finalizers).to.include("finalizers.fluxcd.io");
  });

  it("follows a new commit, and on an unchanged revision only lists the remote (no clone)", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
    await waitFor(ctl.client, ns, "app", { ready: "True", revision: `main@sha1:${git.initialCommit}` });
    const sha = await git.fixture.commitFiles({ "deploy/app.yaml": "kind: Secret\n" }, "change app");
    git.http!.resetRequests();
    await ctl.client.patch(gitRepos, { namespace: ns, name: "app" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "one" } } });
    const repo = await waitFor(ctl.client, ns, "app", { ready: "True", revision: `main@sha1:${sha}` });
    expect(repo.status!.lastHandledReconcileAt).to.equal("one");
    const posts = () => git.http!.requests.filter((r) => r.method === "POST").length;
    expect(posts()).to.be.greaterThan(1); // ls-remote + fetch

    git.http!.resetRequests();
    await ctl.client.patch(gitRepos, { namespace: ns, name: "app" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "two" } } });
    const again = await waitForHandled(ctl, ns, "app", "two");
    expect(again.status!.artifact!.revision).to.equal(`main@sha1:${sha}`);
    expect(again.status!.artifact!.lastUpdateTime).to.equal(repo.status!.artifact!.lastUpdateTime);
    // ls-remote over smart HTTP v2 is one ref advertisement and one ls-refs POST: no fetch.
    expect(posts()).to.equal(1);
  });

  it("records a NewArtifact Event with the revision annotation", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "ev", { url: git.http!.url(), ref: { branch: "main" } });
    const repo = await waitFor(ctl.client, ns, "ev", { ready: "True" });
    const subject = (await git.fixture.git(["log", "-1", "--format=%s"])).trim();
    const { eventually } = await import("../../support/cluster");
    const ev = await eventually(async () => {
      const list = await ctl.client.list<{ reason?: string; message?: string; type?: string; metadata: { annotations?: Record<string, string> }; involvedObject?: { kind?: string; name?: string } }>(
        { group: "", version: "v1", plural: "events", kind: "Event" }, { namespace: ns });
      return list.items.find((e) => e.reason === "NewArtifact" && e.involvedObject?.name === "ev");
    }, { what: "NewArtifact event" });
    expect(ev.type).to.equal("Normal");
    expect(ev.message).to.equal(`stored artifact for commit '${subject}'`);
    expect(ev.involvedObject!.kind).to.equal("GitRepository");
    expect(ev.metadata.annotations!["source.toolkit.fluxcd.io/revision"]).to.equal(repo.status!.artifact!.revision);
  });

  it("checks out submodules with recurseSubmodules", async function () {
    const ns = await newNamespace();
    const sub = await startGitServers({ files: { "lib.yaml": "lib: 1\n" } });
    try {
      await git.fixture.git(["-c", "protocol.file.allow=always", "submodule", "add", "-q", sub.fileUrl, "vendor/lib"]);
      await git.fixture.git(["commit", "-qm", "add submodule"]);
      await git.fixture.publish();
      await createGitRepository(ctl, ns, "with", { url: git.http!.url(), ref: { branch: "main" }, recurseSubmodules: true });
      await createGitRepository(ctl, ns, "without", { url: git.http!.url(), ref: { branch: "main" } });
      const withSub = await waitFor(ctl.client, ns, "with", { ready: "True" });
      const withoutSub = await waitFor(ctl.client, ns, "without", { ready: "True" });
      expect(listTar(await fetchArtifact(withSub.status!.artifact!.url))).to.include("vendor/lib/lib.yaml");
      expect(listTar(await fetchArtifact(withoutSub.status!.artifact!.url))).to.not.include("vendor/lib/lib.yaml");
      expect(withSub.status!.observedRecurseSubmodules).to.equal(true);
    } finally {
      await git.fixture.git(["rm", "-q", "-f", "vendor/lib"]).catch(() => undefined);
      await git.fixture.git(["commit", "-qm", "drop submodule"]).catch(() => undefined);
      await git.fixture.publish();
      await sub.close();
    }
  });

  it("removes its artifacts from storage when deleted", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "gone", { url: git.http!.url(), ref: { branch: "main" } });
    const repo = await waitFor(ctl.client, ns, "gone", { ready: "True" });
    const file = path.join(ctl.storageDir, repo.status!.artifact!.path);
    expect(fs.existsSync(file)).to.equal(true);
    await ctl.client.delete(gitRepos, { namespace: ns, name: "gone" });
    const { eventually } = await import("../../support/cluster");
    await eventually(async () => !(await ctl.client.get(gitRepos, { namespace: ns, name: "gone" })), { what: "GitRepository deleted" });
    expect(fs.existsSync(file)).to.equal(false);
  });
});

async function waitForHandled(ctl: RunningControllers, ns: string, name: string, value: string): Promise<GitRepository> {
  const { eventually } = await import("../../support/cluster");
  return eventually(async () => {
    const g = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name });
    return g?.status?.lastHandledReconcileAt === value ? g : undefined;
  }, { what: `lastHandledReconcileAt=${value}` });
}
