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
  return execFileSync("tar", ["-tzf", f], { encoding: "utf8" }).split("\n").filter(Boolean).sort();
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
