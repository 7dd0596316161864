import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { createClientCertificate, createTestCertificates, GitHttpServer, startGitServers, GitServers } from "../../support/git-server";
import { startHttpProxy } from "../../support/http-proxy";
import { createGitRepository, createSecret, waitFor } from "./support";

describe("GitRepository: authentication (basic, bearer, custom CA, SSH)", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let token: GitHttpServer;
  let tls: GitHttpServer;
  let mtls: GitHttpServer;
  let otherClient: { certPem: string; keyPem: string };
  before(async function () {
    this.timeout(120000);
    const otherCa = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-other-ca-"));
    await createTestCertificates(otherCa);
    otherClient = await createClientCertificate(otherCa);
    ctl = await startControllers();
    git = await startGitServers({ http: { basicAuth: { username: "flux", password: "s3cret" } }, ssh: true, files: { "a.yaml": "a: 1\n" } });
    token = await GitHttpServer.start({ projectRoot: git.fixture.reposDir, bearerToken: "tok-123" });
    tls = await GitHttpServer.start({ projectRoot: git.fixture.reposDir, tls: true });
    mtls = await GitHttpServer.start({ projectRoot: git.fixture.reposDir, tls: true, requireClientCert: true });
  });
  after(async () => { await ctl?.stop(); await token?.close(); await tls?.close(); await mtls?.close(); await git?.close(); });
  const rev = () => `main@sha1:${git.initialCommit}`;

  it("authenticates over HTTP with username and password", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "basic", { username: "flux", password: "s3cret" });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, secretRef: { name: "basic" } });
    await waitFor(ctl.client, ns, "r", { ready: "True", revision: rev() });
  });

  // Flux reports credentials the server refuses as a failed git operation (GitOperationFailed);
  // AuthenticationFailed is for an unusable Secret (below).
  it("fails with GitOperationFailed and a message naming the fix for a wrong password", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "basic", { username: "flux", password: "wrong" });
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, secretRef: { name: "basic" } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
    const msg = r.status!.conditions!.find((c) => c.type === "Ready")!.message;
    expect(msg).to.contain(`failed to checkout and determine revision: unable to list remote for '${git.http!.url()}'`);
    expect(msg).to.contain("check the credentials in the Secret");
    expect(msg).to.not.contain("wrong");
    expect(msg, "no askpass noise").to.not.contain("askpass");
    expect(r.status!.conditions!.find((c) => c.type === "FetchFailed")).to.include({ status: "True", reason: "GitOperationFailed" });
  });

  it("reports a missing Secret as AuthenticationFailed", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: { branch: "main" }, secretRef: { name: "nope" } });
    await waitFor(ctl.client, ns, "r", { ready: "False", reason: "AuthenticationFailed", message: /failed to get secret '.*\/nope': secrets "nope" not found/ });
  });

  it("authenticates with a bearer token", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "tok", { bearerToken: "tok-123" });
    await createGitRepository(ctl, ns, "r", { url: token.url("repo.git"), ref: { branch: "main" }, secretRef: { name: "tok" } });
    await waitFor(ctl.client, ns, "r", { ready: "True", revision: rev() });
  });

  it("trusts a custom CA from ca.crt, and fails without it", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "ca", { "ca.crt": tls.caPem! });
    await createGitRepository(ctl, ns, "with-ca", { url: tls.url("repo.git"), ref: { branch: "main" }, secretRef: { name: "ca" } });
    await createGitRepository(ctl, ns, "without-ca", { url: tls.url("repo.git"), ref: { branch: "main" } });
    await waitFor(ctl.client, ns, "with-ca", { ready: "True", revision: rev() });
    await waitFor(ctl.client, ns, "without-ca", { ready: "False", reason: "GitOperationFailed", message: /certificate/i });
  });

  it("presents the client certificate of tls.crt/tls.key to a server that requires one (mutual TLS)", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "mtls", { "ca.crt": mtls.caPem!, "tls.crt": mtls.clientCertPem!, "tls.key": mtls.clientKeyPem! });
    await createSecret(ctl.client, ns, "ca-only", { "ca.crt": mtls.caPem! });
    // A well-formed client certificate from a CA the server does not trust.
    await createSecret(ctl.client, ns, "foreign", { "ca.crt": mtls.caPem!, "tls.crt": otherClient.certPem, "tls.key": otherClient.keyPem });
    await createGitRepository(ctl, ns, "with-cert", { url: mtls.url("repo.git"), ref: { branch: "main" }, secretRef: { name: "mtls" } });
    await createGitRepository(ctl, ns, "without-cert", { url: mtls.url("repo.git"), ref: { branch: "main" }, secretRef: { name: "ca-only" } });
    await createGitRepository(ctl, ns, "foreign-cert", { url: mtls.url("repo.git"), ref: { branch: "main" }, secretRef: { name: "foreign" } });
    await waitFor(ctl.client, ns, "with-cert", { ready: "True", revision: rev() });
    const tlsFailure = new RegExp(`^failed to checkout and determine revision: unable to list remote for '${mtls.url("repo.git").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}': .*(TLS|SSL|certificate)`, "i");
    await waitFor(ctl.client, ns, "without-cert", { ready: "False", reason: "GitOperationFailed", message: tlsFailure });
    // A certificate the server refuses: under TLS 1.3 the refusal comes after the client's side of
    // the handshake, so git may see the connection reset before it reads the server's alert.
    const refused = new RegExp(`${tlsFailure.source.slice(0, -"(TLS|SSL|certificate)".length)}(TLS|SSL|certificate|Connection reset by peer)`, "i");
    await waitFor(ctl.client, ns, "foreign-cert", { ready: "False", reason: "GitOperationFailed", message: refused });
  });

  it("authenticates over SSH with identity and known_hosts", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "ssh", { identity: git.ssh!.clientPrivateKeyPem, known_hosts: git.ssh!.knownHostsLine });
    await createGitRepository(ctl, ns, "r", { url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "ssh" } });
    await waitFor(ctl.client, ns, "r", { ready: "True", revision: rev() });
  });

  it("decrypts a passphrase-protected SSH key with the Secret's password, and says so when it is wrong", async function () {
    const ns = await newNamespace();
    const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-key-")), "id");
    fs.writeFileSync(keyFile, git.ssh!.clientPrivateKeyPem, { mode: 0o600 });
    execFileSync("ssh-keygen", ["-q", "-p", "-P", "", "-N", "pass phrase", "-f", keyFile]);
    const encrypted = fs.readFileSync(keyFile, "utf8");
    await createSecret(ctl.client, ns, "ok", { identity: encrypted, known_hosts: git.ssh!.knownHostsLine, password: "pass phrase" });
    await createSecret(ctl.client, ns, "bad", { identity: encrypted, known_hosts: git.ssh!.knownHostsLine, password: "nope" });
    await createGitRepository(ctl, ns, "ok", { url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "ok" } });
    await createGitRepository(ctl, ns, "bad", { url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "bad" } });
    await waitFor(ctl.client, ns, "ok", { ready: "True", revision: rev() });
    await waitFor(ctl.client, ns, "bad", { ready: "False", reason: "AuthenticationFailed", message: /could not be decrypted with the 'password'/ });
  });

  it("goes through the HTTP proxy of proxySecretRef, with its credentials", async function () {
    const proxy = await startHttpProxy({ username: "p", password: "q" });
    try {
      const ns = await newNamespace();
      await createSecret(ctl.client, ns, "basic", { username: "flux", password: "s3cret" });
      await createSecret(ctl.client, ns, "proxy", { address: proxy.url, username: "p", password: "q" });
      await createSecret(ctl.client, ns, "badproxy", { address: proxy.url, username: "p", password: "wrong" });
      await createGitRepository(ctl, ns, "via", { url: git.http!.url(), ref: { branch: "main" }, secretRef: { name: "basic" }, proxySecretRef: { name: "proxy" } });
      await waitFor(ctl.client, ns, "via", { ready: "True", revision: rev() });
      expect(proxy.requests.some((r) => r.includes("/repo.git/git-upload-pack")), proxy.requests.join("\n")).to.equal(true);
      await createGitRepository(ctl, ns, "denied", { url: git.http!.url(), ref: { branch: "main" }, secretRef: { name: "basic" }, proxySecretRef: { name: "badproxy" } });
      await waitFor(ctl.client, ns, "denied", { ready: "False", message: /407|[Pp]roxy/ });
    } finally { await proxy.close(); }
  });

  it("refuses an SSH server whose host key is not in known_hosts", async function () {
    const ns = await newNamespace();
    const other = "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMK8ndMwOJbn7sBzq5Wb2KOmPc8hS8c6E4x+5CHE6S1v";
    await createSecret(ctl.client, ns, "ssh", { identity: git.ssh!.clientPrivateKeyPem, known_hosts: other });
    await createGitRepository(ctl, ns, "r", { url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "ssh" } });
    const r = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed", message: /host key is not in known_hosts/ });
    expect(r.status!.conditions!.find((c) => c.type === "FetchFailed")).to.include({ status: "True", reason: "GitOperationFailed" });
    expect(r.status!.artifact).to.equal(undefined);
  });

  it("says which key is missing from an SSH Secret", async function () {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "ssh", { identity: git.ssh!.clientPrivateKeyPem });
    await createGitRepository(ctl, ns, "r", { url: git.urls.ssh!, ref: { branch: "main" }, secretRef: { name: "ssh" } });
    await waitFor(ctl.client, ns, "r", { ready: "False", reason: "AuthenticationFailed", message: /'known_hosts' is missing/ });
  });
});
