import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { GitHttpServer, startGitServers, GitServers } from "../../support/git-server";
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

  it("makes a fresh clone a shallow, single-branch fetch: one want, deepen 1, no tags", async function () {
    const quiet = await GitHttpServer.start({ projectRoot: git.fixture.reposDir });
    try {
      const ns = await newNamespace();
      const head = await git.fixture.revParse("HEAD");
      await createGitRepository(ctl, ns, "shallow", { url: quiet.url(), ref: { branch: "main" } });
      await waitFor(ctl.client, ns, "shallow", { ready: "True", revision: `main@sha1:${head}` });
      const fetches = quiet.requests.filter((r) => r.command === "fetch");
      expect(fetches, JSON.stringify(quiet.requests.map((r) => [r.method, r.path, r.command]))).to.have.length(1);
      const lines = fetches[0].pktLines!;
      expect(lines.filter((l) => l.startsWith("want ")), lines.join("\n")).to.deep.equal([`want ${head}`]);
      expect(lines).to.include("deepen 1");
      expect(lines).to.not.include("include-tag");
      // The ref listing before the fetch asks for the one branch only.
      const listings = quiet.requests.filter((r) => r.command === "ls-refs");
      const prefixes = listings[listings.length - 1].pktLines!.filter((l) => l.startsWith("ref-prefix "));
      expect(prefixes, "ref-prefix lines of the fetch's ls-refs").to.not.be.empty;
      for (const p of prefixes) expect(p).to.contain("refs/heads/main");
    } finally { await quiet.close(); }
  });

  it("garbage-collects old artifacts: the storage dir keeps the current artifact and the one before", async function () {
    const ns = await newNamespace();
    const first = await git.fixture.revParse("HEAD");
    await createGitRepository(ctl, ns, "gc", { url: git.http!.url(), ref: { branch: "main" } });
    const r0 = await waitFor(ctl.client, ns, "gc", { ready: "True", revision: `main@sha1:${first}` });
    const dir = path.join(ctl.storageDir, "gitrepository", ns, "gc");
    const files = () => fs.readdirSync(dir).sort();
    expect(files()).to.deep.equal([`${first}.tar.gz`]);
    const shas = [first];
    const urls = [r0.status!.artifact!.url];
    for (let i = 1; i <= 3; i++) {
      const sha = await git.fixture.commitFiles({ "gc.yaml": `n: ${i}\n` }, `gc ${i}`);
      await ctl.client.patch(gitRepos, { namespace: ns, name: "gc" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": `gc-${i}` } } });
      const r = await waitFor(ctl.client, ns, "gc", { ready: "True", revision: `main@sha1:${sha}` });
      expect(r.status!.artifact!.path).to.equal(`gitrepository/${ns}/gc/${sha}.tar.gz`);
      shas.push(sha);
      urls.push(r.status!.artifact!.url);
      // Retention 2 (--artifact-retention-records): the current one plus the previous one.
      expect(files(), `after commit ${i}`).to.deep.equal([`${sha}.tar.gz`, `${shas[i - 1]}.tar.gz`].sort());
      for (const url of urls.slice(-2)) expect((await fetch(url)).status, `kept ${url}`).to.equal(200);
      for (const url of urls.slice(0, -2)) expect((await fetch(url)).status, `collected ${url}`).to.equal(404);
    }
  });

  it("polls the remote every spec.interval: a new commit arrives with no annotation", async function () {
    const ns = await newNamespace();
    const head = await git.fixture.revParse("HEAD");
    await createGitRepository(ctl, ns, "poll", { url: git.http!.url(), ref: { branch: "main" }, interval: "2s" });
    try {
      await waitFor(ctl.client, ns, "poll", { ready: "True", revision: `main@sha1:${head}` });
      const sha = await git.fixture.commitFiles({ "poll.yaml": `at: ${Date.now()}\n` }, "polled");
      const r = await waitFor(ctl.client, ns, "poll", { ready: "True", revision: `main@sha1:${sha}` }, 15000);
      expect(r.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).to.equal(undefined);
      expect(r.status!.lastHandledReconcileAt).to.equal(undefined);
      expect(r.metadata.generation, "no spec change either").to.equal(1);
    } finally {
      await ctl.client.delete(gitRepos, { namespace: ns, name: "poll" }); // stop its 2 s polling of the shared server
    }
  });

  it("does not touch the remote while suspended, even at a 2s interval or on request, and catches up on resume", async function () {
    const own = await GitHttpServer.start({ projectRoot: git.fixture.reposDir });
    try {
      const ns = await newNamespace();
      const head = await git.fixture.revParse("HEAD");
      await createGitRepository(ctl, ns, "s", { url: own.url(), ref: { branch: "main" }, interval: "2s" });
      const ready = await waitFor(ctl.client, ns, "s", { ready: "True", revision: `main@sha1:${head}` });
      const suspended = await ctl.client.patch<GitRepository>(gitRepos, { namespace: ns, name: "s" }, { spec: { suspend: true } });
      const { eventually } = await import("../../support/cluster");
      await eventually(async () => (await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "s" }))?.status?.observedGeneration === suspended.metadata.generation,
        { what: "the suspended generation observed" });
      own.resetRequests();
      const sha = await git.fixture.commitFiles({ "suspend.yaml": "s: 1\n" }, "while suspended");
      await ctl.client.patch(gitRepos, { namespace: ns, name: "s" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "while-suspended" } } });
      await new Promise((r) => setTimeout(r, 6000));
      const still = (await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "s" }))!;
      expect(own.requests, "no git request while suspended").to.deep.equal([]);
      expect(still.status!.artifact).to.deep.equal(ready.status!.artifact);
      // As Flux does, the request is recorded as handled (the reconcile ran and returned at suspend).
      expect(still.status!.lastHandledReconcileAt).to.equal("while-suspended");
      await ctl.client.patch(gitRepos, { namespace: ns, name: "s" }, { spec: { suspend: false } });
      await waitFor(ctl.client, ns, "s", { ready: "True", revision: `main@sha1:${sha}` });
      expect(own.requests.length).to.be.greaterThan(0);
    } finally { await own.close(); }
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
