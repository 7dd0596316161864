import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { createGitRepository, gitRepos, waitFor } from "./support";

const readyMessage = (r: GitRepository) => r.status!.conditions!.find((c) => c.type === "Ready")!.message;

describe("GitRepository: bad input and faults", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    await git.fixture.tag("v1.0.0");
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  it("reports an unknown host", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: "https://no-such-host.invalid/repo.git", ref: { branch: "main" } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
    expect(readyMessage(r)).to.match(/unable to list remote for 'https:\/\/no-such-host\.invalid\/repo\.git'.*Could not resolve host/);
    expect(r.status!.conditions!.find((c) => c.type === "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
  });

  it("reports a URL that is not a git repository", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url("missing.git"), ref: { branch: "main" } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False" });
    expect(readyMessage(r)).to.contain(`unable to list remote for '${git.http!.url("missing.git")}'`);
  });

  it("has the API server reject a URL scheme Flux does not accept", async function () {
    const ns = await newNamespace();
    let err: Error | undefined;
    try { await createGitRepository(ctl, ns, "r", { url: "git@example.com:org/repo.git" }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/spec\.url.*should match '\^\(http\|https\|ssh\):\/\/\.\*\$'/);
  });

  it("reports a missing branch and a missing tag", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "b", { url: git.http!.url(), ref: { branch: "nope" } });
    await createGitRepository(ctl, ns, "t", { url: git.http!.url(), ref: { tag: "v9.9.9" } });
    await waitFor(ctl.client, ns, "b", { ready: "False", reason: "GitOperationFailed", message: /couldn't find remote ref "refs\/heads\/nope"/ });
    await waitFor(ctl.client, ns, "t", { ready: "False", reason: "GitOperationFailed", message: /couldn't find remote ref "refs\/tags\/v9\.9\.9"/ });
  });

  it("reports no tag matching a semver range, and stalls on an invalid range", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "nomatch", { url: git.http!.url(), ref: { semver: ">=2.0.0" } });
    await createGitRepository(ctl, ns, "invalid", { url: git.http!.url(), ref: { semver: "not a range!" } });
    await waitFor(ctl.client, ns, "nomatch", { ready: "False", message: /no match found for semver: >=2\.0\.0/ });
    const inv = await waitFor(ctl.client, ns, "invalid", { ready: "False", message: /semver parse error/ });
    expect(inv.status!.conditions!.find((c) => c.type === "Stalled")).to.include({ status: "True" });
  });

  it("keeps the last good artifact in status and storage while the git server is down, and recovers", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" } });
    const good = await waitFor(ctl.client, ns, "r", { ready: "True" });
    const goodArtifact = good.status!.artifact!;
    await git.http!.stop();
    try {
      await git.fixture.commitFiles({ "b.yaml": "b: 2\n" }, "while down");
      await ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "down" } } });
      const down = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
      expect(down.status!.artifact).to.deep.equal(goodArtifact);
      expect((await fetch(goodArtifact.url)).status).to.equal(200);
    } finally {
      await git.http!.start();
    }
    const head = await git.fixture.revParse("HEAD");
    await ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "up" } } });
    await waitFor(ctl.client, ns, "r", { ready: "True", revision: `main@sha1:${head}` }, 60000);
  });

  it("keeps serving other objects while one fails", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "broken", { url: "https://no-such-host.invalid/x.git", ref: { branch: "main" } });
    await createGitRepository(ctl, ns, "fine", { url: git.http!.url(), ref: { branch: "main" } });
    await waitFor(ctl.client, ns, "fine", { ready: "True" });
    await waitFor(ctl.client, ns, "broken", { ready: "False" });
  });
});

describe("GitRepository: storage full", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let mnt: string;
  before(async function () {
    this.timeout(120000);
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-smallfs-"));
    // A real ENOSPC: a 512 KiB tmpfs as the storage volume (needs root, as CI has).
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt]);
    onTeardown(() => { try { execFileSync("umount", ["-l", mnt], { stdio: "ignore" }); } catch { /* already */ } });
    ctl = await startControllers({ storageDir: mnt });
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
  });
  after(async () => { await ctl?.stop(); await git?.close(); try { execFileSync("umount", ["-l", mnt], { stdio: "ignore" }); } catch { /* done */ } });

  it("reports StorageOperationFailed, keeps the last artifact, and recovers when space is freed", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" } });
    const good = await waitFor(ctl.client, ns, "r", { ready: "True" });
    const filler = path.join(mnt, "filler");
    try { execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=1000"], { stdio: "ignore" }); } catch { /* disk full: intended */ }
    // Incompressible content so the new artifact cannot fit in what is left.
    const noise = Array.from({ length: 4000 }, () => Math.random().toString(36)).join("\n");
    const sha = await git.fixture.commitFiles({ "big.txt": noise }, "big");
    await ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "full" } } });
    const full = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "ArchiveOperationFailed", message: /no space left/ });
    expect(full.status!.conditions!.find((c) => c.type === "StorageOperationFailed")).to.include({ status: "True" });
    expect(full.status!.artifact).to.deep.equal(good.status!.artifact);
    expect(fs.existsSync(path.join(mnt, good.status!.artifact!.path))).to.equal(true);
    expect(fs.readdirSync(path.dirname(path.join(mnt, good.status!.artifact!.path))).filter((f) => f.includes(".tmp-"))).to.deep.equal([]);
    fs.rmSync(filler);
    await eventually(async () => {
      const r = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "r" });
      return r?.status?.artifact?.revision === `main@sha1:${sha}`;
    }, { timeoutMs: 60000, what: "recovery after space is freed (retry with back-off)" });
  });
});
