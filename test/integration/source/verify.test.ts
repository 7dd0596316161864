import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { createGitRepository, createSecret, waitFor } from "./support";

describe("GitRepository: signature verification (OpenPGP and SSH)", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let sshPub: string;
  let pgpPub: string;
  let signedCommit: string;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    const f = git.fixture;
    const keys = f.scratchDir("keys");
    // SSH signing key for commits.
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "signer", "-f", path.join(keys, "sign")]);
    sshPub = fs.readFileSync(path.join(keys, "sign.pub"), "utf8");
    await f.git(["config", "gpg.format", "ssh"]);
    await f.git(["config", "user.signingkey", path.join(keys, "sign.pub")]);
    await f.git(["commit", "-q", "-S", "--allow-empty", "-m", "signed with ssh"]);
    signedCommit = await f.revParse("HEAD");
    // OpenPGP key for an annotated tag.
    const gnupg = path.join(keys, "gnupg");
    fs.mkdirSync(gnupg, { mode: 0o700 });
    const env = { ...f.env, GNUPGHOME: gnupg };
    execFileSync("gpg", ["--batch", "--passphrase", "", "--quick-gen-key", "Tagger <tagger@example.invalid>", "ed25519", "sign", "never"], { env, stdio: "ignore" });
    pgpPub = execFileSync("gpg", ["--armor", "--export", "tagger@example.invalid"], { env, encoding: "utf8" });
    await f.git(["-c", "gpg.format=openpgp", "-c", "user.signingkey=tagger@example.invalid", "tag", "-s", "-m", "signed tag", "v1.0.0"], { env });
    await f.git(["tag", "v0.9.0"]);
    await f.publish();
    await f.git(["config", "--unset", "user.signingkey"]);
    await f.commitFiles({ "b.yaml": "b: 1\n" }, "unsigned", { branch: "unsigned" });
    await f.switchTo("main");
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  it("verifies an SSH-signed HEAD commit and reports SourceVerified", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "dev.sshpub": sshPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, verify: { mode: "HEAD", secretRef: { name: "keys" } } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "True", revision: `main@sha1:${signedCommit}` });
    const c = r.status!.conditions!.find((x) => x.type === "SourceVerified")!;
    expect(c).to.include({ status: "True", reason: "Succeeded" });
    expect(c.message).to.match(/verified signature of - commit '[0-9a-f]{40}' with key SHA256:/);
    expect(r.status!.sourceVerificationMode).to.equal("HEAD");
  });

  it("verifies an OpenPGP-signed annotated tag", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "tagger.asc": pgpPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { tag: "v1.0.0" }, verify: { mode: "Tag", secretRef: { name: "keys" } } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "True" });
    expect(r.status!.conditions!.find((x) => x.type === "SourceVerified")!.message).to.match(/tag 'v1.0.0' with key [0-9A-F]{16}/);
  });

  it("refuses an unsigned commit and keeps no artifact", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "dev.sshpub": sshPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "unsigned" }, verify: { mode: "HEAD", secretRef: { name: "keys" } } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "InvalidCommitSignature", message: /signature verification of commit '[0-9a-f]{40}' failed: no signature found/ });
    expect(r.status!.conditions!.find((x) => x.type === "SourceVerified")).to.include({ status: "False", reason: "InvalidCommitSignature" });
    expect(r.status!.artifact).to.equal(undefined);
  });

  it("keeps the last verified artifact when the ref moves to an unsigned commit", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "dev.sshpub": sshPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, verify: { mode: "HEAD", secretRef: { name: "keys" } } });
    const good = await waitFor(ctl.client, ns, "r", { ready: "True", revision: `main@sha1:${signedCommit}` });
    await ctl.client.patch({ group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories" }, { namespace: ns, name: "r" }, { spec: { ref: { branch: "unsigned" } } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "InvalidCommitSignature" });
    expect(r.status!.artifact).to.deep.equal(good.status!.artifact);
    const res = await fetch(good.status!.artifact!.url);
    expect(res.status).to.equal(200);
  });

  it("stalls with InvalidVerificationMode when mode Tag is asked of a branch", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "tagger.asc": pgpPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, verify: { mode: "Tag", secretRef: { name: "keys" } } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "InvalidVerificationMode", message: /tag reference is not specified/ });
    expect(r.status!.conditions!.find((x) => x.type === "Stalled")).to.include({ status: "True", reason: "InvalidVerificationMode" });
  });

  it("reports a lightweight tag as InvalidGitObject", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "tagger.asc": pgpPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { tag: "v0.9.0" }, verify: { mode: "Tag", secretRef: { name: "keys" } } });
    await waitFor(ctl.client, ns, "r", { ready: "False", reason: "InvalidGitObject", message: /tag 'v0.9.0' since it is not signed/ });
  });

  it("refuses a commit signed by a key that is not trusted", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "keys", { "tagger.asc": pgpPub });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, verify: { mode: "HEAD", secretRef: { name: "keys" } } });
    await waitFor(ctl.client, ns, "r", { ready: "False", reason: "InvalidCommitSignature", message: /signed by a key not in the verification secret/ });
  });
});
