import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { GitHttpServer, startGitServers, GitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { condition, createGitRepository, createSecret, gitRepos, secrets, waitFor } from "./support";

const readyMessage = (r: GitRepository) => r.status!.conditions!.find((c) => c.type === "Ready")!.message;

type Artifact = NonNullable<NonNullable<GitRepository["status"]>["artifact"]>;
type CoreEvent = { type?: string; reason?: string; message?: string; metadata: { name?: string }; involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string } };
const events = { group: "", version: "v1", plural: "events", kind: "Event" };

/** The last good artifact is still in status (unchanged) and still served with its digest. */
async function expectArtifactKept(r: GitRepository, good: Artifact): Promise<void> {
  expect(r.status!.artifact, "status.artifact is the last good one").to.deep.equal(good);
  const res = await fetch(good.url);
  expect(res.status, `GET ${good.url}`).to.equal(200);
  const body = Buffer.from(await res.arrayBuffer());
  expect(`sha256:${createHash("sha256").update(body).digest("hex")}`).to.equal(good.digest);
}

/** Waits for a Warning Event about the object with `reason`. */
function warningEvent(ctl: RunningControllers, ns: string, name: string, reason: string): Promise<CoreEvent> {
  return eventually(async () => (await ctl.client.list<CoreEvent>(events, { namespace: ns })).items
    .find((e) => e.involvedObject?.kind === "GitRepository" && e.involvedObject.name === name && e.type === "Warning" && e.reason === reason),
  { timeoutMs: 20000, what: `Warning Event ${reason} for GitRepository ${ns}/${name}` });
}

function requestReconcile(ctl: RunningControllers, ns: string, name: string, value: string): Promise<unknown> {
  return ctl.client.patch(gitRepos, { namespace: ns, name }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": value } } });
}

/** A TCP listener that accepts connections and never sends a byte. */
async function silentListener(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => { sockets.add(s); s.on("error", () => undefined); s.on("close", () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  onTeardown(close);
  return { port: (server.address() as net.AddressInfo).port, close };
}

describe("GitRepository: bad input and faults", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let authed: GitHttpServer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, ssh: true, files: { "a.yaml": "a: 1\n" } });
    await git.fixture.tag("v1.0.0");
    authed = await GitHttpServer.start({ projectRoot: git.fixture.reposDir, basicAuth: { username: "flux", password: "s3cret" } });
  });
  after(async () => { await ctl?.stop(); await authed?.close(); await git?.close(); });

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
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
    expect(readyMessage(r)).to.contain(`failed to checkout and determine revision: unable to list remote for '${git.http!.url("missing.git")}'`);
    expect(condition(r, "FetchFailed")).to.include({ status: "True", reason: "GitOperationFailed" });
    expect(condition(r, "Stalled"), "a missing repository may appear later: retried, not stalled").to.equal(undefined);
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
    const nomatch = await waitFor(ctl.client, ns, "nomatch", { ready: "False", reason: "GitOperationFailed", message: /^failed to checkout and determine revision: no match found for semver: >=2\.0\.0$/ });
    expect(condition(nomatch, "Stalled"), "a matching tag may be pushed later: retried").to.equal(undefined);
    expect(condition(nomatch, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    const inv = await waitFor(ctl.client, ns, "invalid", { ready: "False", reason: "GitOperationFailed", message: /semver parse error/ });
    expect(inv.status!.conditions!.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "GitOperationFailed" });
  });

  // Each case: a GitRepository that is Ready, then broken one way. Flux's reason for every one
  // is GitOperationFailed (credentials refused by the server included: AuthenticationFailed is
  // for an unusable Secret); the last good artifact stays in status and in storage.
  const otherHostKey = "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK8ndMwOJbn7sBzq5Wb2KOmPc8hS8c6E4x+5CHE6S1v";
  const breakages: Array<{
    what: string;
    spec: () => Partial<GitRepository["spec"]>;
    secret?: () => Record<string, string>;
    breakIt: (ns: string) => Promise<unknown>;
    reason: string;
    message: () => RegExp;
  }> = [
    {
      what: "a URL that is not a git repository",
      spec: () => ({ url: git.http!.url(), ref: { branch: "main" } }),
      breakIt: (ns) => ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { spec: { url: git.http!.url("missing.git") } }),
      reason: "GitOperationFailed",
      message: () => new RegExp(`^failed to checkout and determine revision: unable to list remote for '${esc(git.http!.url("missing.git"))}': .*not found`),
    },
    {
      what: "a password the server refuses (Secret changed)",
      spec: () => ({ url: authed.url(), ref: { branch: "main" }, secretRef: { name: "creds" } }),
      secret: () => ({ username: "flux", password: "s3cret" }),
      breakIt: async (ns) => {
        await ctl.client.patch(secrets, { namespace: ns, name: "creds" }, { stringData: { password: "wrong" } });
        await requestReconcile(ctl, ns, "r", "after-secret-change");
      },
      reason: "GitOperationFailed",
      message: () => new RegExp(`^failed to checkout and determine revision: unable to list remote for '${esc(authed.url())}': .*\\(check the credentials in the Secret\\)$`),
    },
    {
      what: "an SSH known_hosts without the server's host key (Secret changed)",
      spec: () => ({ url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "creds" } }),
      secret: () => ({ identity: git.ssh!.clientPrivateKeyPem, known_hosts: git.ssh!.knownHostsLine }),
      breakIt: async (ns) => {
        await ctl.client.patch(secrets, { namespace: ns, name: "creds" }, { stringData: { known_hosts: otherHostKey } });
        await requestReconcile(ctl, ns, "r", "after-secret-change");
      },
      reason: "GitOperationFailed",
      message: () => /unable to list remote for 'ssh:.*Host key verification failed.*host key is not in known_hosts of the Secret/,
    },
    {
      what: "a branch that does not exist",
      spec: () => ({ url: git.http!.url(), ref: { branch: "main" } }),
      breakIt: (ns) => ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { spec: { ref: { branch: "nope" } } }),
      reason: "GitOperationFailed",
      message: () => /couldn't find remote ref "refs\/heads\/nope"/,
    },
    {
      what: "a semver range no tag satisfies",
      spec: () => ({ url: git.http!.url(), ref: { semver: ">=1.0.0" } }),
      breakIt: (ns) => ctl.client.patch(gitRepos, { namespace: ns, name: "r" }, { spec: { ref: { semver: ">=2.0.0" } } }),
      reason: "GitOperationFailed",
      message: () => /^failed to checkout and determine revision: no match found for semver: >=2\.0\.0$/,
    },
  ];
  for (const c of breakages) {
    it(`keeps the last good artifact and says why when Ready breaks: ${c.what}`, async function () {
      const ns = await newNamespace();
      if (c.secret) await createSecret(ctl.client, ns, "creds", c.secret());
      await createGitRepository(ctl, ns, "r", c.spec());
      const good = await waitFor(ctl.client, ns, "r", { ready: "True" });
      const goodArtifact = good.status!.artifact!;
      await c.breakIt(ns);
      const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: c.reason, message: c.message() });
      expect(condition(r, "FetchFailed")).to.include({ status: "True", reason: c.reason, message: readyMessage(r) });
      expect(condition(r, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
      expect(condition(r, "ArtifactInStorage")).to.include({ status: "True" });
      await expectArtifactKept(r, goodArtifact);
      const ev = await warningEvent(ctl, ns, "r", c.reason);
      expect(ev.message).to.match(c.message());
    });
  }

  it("records a Warning Event with the failure's reason and message for the object", async function () {
    const ns = await newNamespace();
    const obj = await createGitRepository(ctl, ns, "w", { url: git.http!.url(), ref: { branch: "nope" } });
    const r = await waitFor(ctl.client, ns, "w", { ready: "False", reason: "GitOperationFailed" });
    const ev = await warningEvent(ctl, ns, "w", "GitOperationFailed");
    expect(ev.involvedObject).to.include({ kind: "GitRepository", name: "w", namespace: ns, uid: obj.metadata.uid });
    expect(ev.message).to.equal(readyMessage(r));
    const normal = (await ctl.client.list<CoreEvent>(events, { namespace: ns })).items.filter((e) => e.type !== "Warning");
    expect(normal.map((e) => e.reason), "no Normal event for a failure").to.deep.equal([]);
  });

  it("reports GitOperationFailed when the server dies during the fetch, keeps the last artifact, and recovers", async function () {
    const flaky = await GitHttpServer.start({ projectRoot: git.fixture.reposDir });
    try {
      const ns = await newNamespace();
      await createGitRepository(ctl, ns, "r", { url: flaky.url(), ref: { branch: "main" } });
      const good = await waitFor(ctl.client, ns, "r", { ready: "True" });
      const sha = await git.fixture.commitFiles({ "mid.yaml": "mid: 1\n" }, "mid-fetch fault");
      flaky.fault = { command: "fetch", action: "destroy" };
      flaky.resetRequests();
      await requestReconcile(ctl, ns, "r", "fault");
      const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed",
        message: new RegExp(`^failed to checkout and determine revision: unable to clone '${esc(flaky.url())}': `) });
      // The remote was listed fine (new revision seen); the connection died on the pack request.
      expect(flaky.requests.some((q) => q.command === "ls-refs" && q.status === 200)).to.equal(true);
      expect(flaky.requests.some((q) => q.command === "fetch" && q.faulted === "destroy")).to.equal(true);
      expect(condition(r, "FetchFailed")).to.include({ status: "True", reason: "GitOperationFailed" });
      await expectArtifactKept(r, good.status!.artifact!);
      flaky.fault = undefined;
      await requestReconcile(ctl, ns, "r", "healed");
      const healed = await waitFor(ctl.client, ns, "r", { ready: "True", revision: `main@sha1:${sha}` }, 60000);
      expect(condition(healed, "FetchFailed")).to.equal(undefined);
      expect((await fetch(healed.status!.artifact!.url)).status).to.equal(200);
    } finally { await flaky.close(); }
  });

  it("gives up on a server that accepts connections and never answers after spec.timeout", async function () {
    const silent = await silentListener();
    try {
      const ns = await newNamespace();
      const url = `http://127.0.0.1:${silent.port}/repo.git`;
      const t0 = Date.now();
      await createGitRepository(ctl, ns, "r", { url, ref: { branch: "main" }, timeout: "2s" });
      const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed", message: /timed out/ }, 30000);
      const elapsed = Date.now() - t0;
      expect(readyMessage(r)).to.equal(`failed to checkout and determine revision: unable to list remote for '${url}': git ls-remote timed out after 2s`);
      expect(elapsed, "failed by spec.timeout, not the 60 s default").to.be.lessThan(20000);
    } finally { await silent.close(); }
  });

  it("applies spec.timeout to the clone too: a server that lists refs and then hangs on the fetch", async function () {
    const hung = await GitHttpServer.start({ projectRoot: git.fixture.reposDir });
    hung.fault = { command: "fetch", action: "hang" };
    try {
      const ns = await newNamespace();
      const t0 = Date.now();
      await createGitRepository(ctl, ns, "r", { url: hung.url(), ref: { branch: "main" }, timeout: "2s" });
      const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed", message: /timed out/ }, 30000);
      expect(Date.now() - t0, "failed by spec.timeout, not the 60 s default").to.be.lessThan(20000);
      expect(readyMessage(r)).to.equal(`failed to checkout and determine revision: unable to clone '${hung.url()}': git fetch timed out after 2s`);
      expect(hung.requests.some((q) => q.command === "fetch" && q.faulted === "hang")).to.equal(true);
      expect(r.status!.artifact).to.equal(undefined);
    } finally { await hung.close(); }
  });

  it("keeps the last good artifact in status and storage while the git server is down, and recovers", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" } });
    const good = await waitFor(ctl.client, ns, "r", { ready: "True" });
    const goodArtifact = good.status!.artifact!;
    await git.http!.stop();
    try {
      await git.fixture.commitFiles({ "b.yaml": "b: 2\n" }, "while down");
      await requestReconcile(ctl, ns, "r", "down");
      const down = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
      await expectArtifactKept(down, goodArtifact);
    } finally {
      await git.http!.start();
    }
    const head = await git.fixture.revParse("HEAD");
    await requestReconcile(ctl, ns, "r", "up");
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

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

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
