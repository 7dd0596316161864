// Proves the git test servers with the real git CLI: file://, smart HTTP (basic, bearer),
// HTTPS with a custom CA, SSH with key + known_hosts, push, refs, and server stop/start.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { GitFixture, GitHttpServer, GitSshServer, liveGitResourceCount, stopAllGitServers } from "../../support/git-server";

describe("git test servers", function () {
  this.timeout(60_000);
  let fixture: GitFixture;
  let mainSha: string;
  let devSha: string;
  let annotatedTagSha: string;

  before(async () => {
    fixture = await GitFixture.create();
    await fixture.createBareRepo("repo.git");
    await fixture.commitFiles({ "README.md": "hello\n", "deploy/app.yaml": "kind: ConfigMap\n" }, "initial");
    mainSha = await fixture.commitFiles({ "deploy/app.yaml": "kind: Secret\n", "README.md": null }, "second");
    devSha = await fixture.commitFiles({ "dev.txt": "dev\n" }, "on dev", { branch: "dev" });
    await fixture.switchTo("main");
    await fixture.tag("v1.0.0", mainSha);
    annotatedTagSha = await fixture.annotatedTag("v1.1.0", "release 1.1.0", devSha);
  });

  after(async () => {
    await stopAllGitServers();
    expect(liveGitResourceCount()).to.equal(0);
  });

  /** `git ls-remote` output as a ref -> sha map. */
  async function lsRemote(url: string, env: NodeJS.ProcessEnv = {}, config: string[] = []): Promise<Record<string, string>> {
    const out = await fixture.git([...config.flatMap((c) => ["-c", c]), "ls-remote", url], { env });
    const refs: Record<string, string> = {};
    for (const line of out.split("\n").filter(Boolean)) {
      const [sha, ref] = line.split("\t");
      refs[ref] = sha;
    }
    return refs;
  }

  /** Clone `url` into a fresh dir and return the checked-out HEAD sha. */
  async function cloneHead(url: string, env: NodeJS.ProcessEnv = {}, config: string[] = []): Promise<string> {
    const dest = path.join(fixture.scratchDir("clone"), "c");
    await fixture.git([...config.flatMap((c) => ["-c", c]), "clone", "-q", url, dest], { env });
    return fixture.git(["rev-parse", "HEAD"], { cwd: dest });
  }

  let lastClone = "";
  /** Clone `url`, commit a new file in the clone and return the new commit sha. */
  async function commitInClone(url: string, file: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    lastClone = path.join(fixture.scratchDir("push"), "c");
    await fixture.git(["clone", "-q", url, lastClone], { env });
    fs.writeFileSync(path.join(lastClone, file), `${file}\n`);
    await fixture.git(["add", file], { cwd: lastClone });
    await fixture.git(["commit", "-q", "-m", `add ${file}`], { cwd: lastClone });
    return fixture.git(["rev-parse", "HEAD"], { cwd: lastClone });
  }

  it("commits files, deletes files and clones the bare repository over file://", async () => {
    const dest = path.join(fixture.scratchDir("file"), "c");
    await fixture.git(["clone", "-q", fixture.fileUrl(), dest]);
    expect(await fixture.git(["rev-parse", "HEAD"], { cwd: dest })).to.equal(mainSha);
    expect(fs.readFileSync(path.join(dest, "deploy/app.yaml"), "utf8")).to.equal("kind: Secret\n");
    expect(fs.existsSync(path.join(dest, "README.md"))).to.equal(false);
    expect(await fixture.git(["log", "-1", "--format=%an <%ae>"], { cwd: dest })).to.equal("GitOps Test <gitops-test@example.invalid>");
  });

  it("shows branches, lightweight tags and annotated tags via git ls-remote", async () => {
    const refs = await lsRemote(fixture.fileUrl());
    expect(refs["refs/heads/main"]).to.equal(mainSha);
    expect(refs["refs/heads/dev"]).to.equal(devSha);
    expect(refs["refs/tags/v1.0.0"]).to.equal(mainSha);
    expect(refs["refs/tags/v1.1.0"]).to.equal(annotatedTagSha);
    expect(refs["refs/tags/v1.1.0^{}"]).to.equal(devSha);
    expect(annotatedTagSha).to.not.equal(devSha);
  });

  describe("smart HTTP", () => {
    let server: GitHttpServer;
    before(async () => {
      server = await GitHttpServer.start({ projectRoot: fixture.reposDir, basicAuth: { username: "git", password: "s3cret" } });
    });

    it("clones with basic auth credentials", async () => {
      expect(await cloneHead(server.urlWithCredentials())).to.equal(mainSha);
      expect(server.requests.some((r) => r.status === 200 && r.user === "git")).to.equal(true);
    });

    it("answers 401 with a Basic challenge and makes git fail on a wrong password", async () => {
      const res = await fetch(`${server.url()}/info/refs?service=git-upload-pack`);
      expect(res.status).to.equal(401);
      expect(res.headers.get("www-authenticate")).to.equal('Basic realm="git"');
      const result = await fixture.tryGit(["ls-remote", server.urlWithCredentials("repo.git", "git", "wrong")]);
      expect(result.code).to.not.equal(0);
      expect(result.stderr).to.match(/Authentication failed|401/);
    });

    it("counts requests so an unchanged revision check is visible as ls-remote traffic only", async () => {
      server.resetRequests();
      await lsRemote(server.urlWithCredentials());
      const served = server.requests.filter((r) => r.status === 200);
      expect(served.length).to.be.greaterThan(0);
      expect(served[0].path).to.equal("/repo.git/info/refs");
      expect(served[0].query).to.equal("service=git-upload-pack");
      expect(server.requestCount).to.be.lessThan(6);
    });

    it("accepts a push over HTTP", async () => {
      const url = server.urlWithCredentials();
      const sha = await commitInClone(url, "http.txt");
      await fixture.git(["push", "-q", url, "HEAD:refs/heads/pushed-over-http"], { cwd: lastClone });
      expect((await lsRemote(fixture.fileUrl()))["refs/heads/pushed-over-http"]).to.equal(sha);
      expect(server.requests.some((r) => r.path === "/repo.git/git-receive-pack" && r.status === 200)).to.equal(true);
    });

    it("refuses connections while stopped and serves again after a restart", async () => {
      const port = server.port;
      await server.stop();
      expect(server.running).to.equal(false);
      const down = await fixture.tryGit(["ls-remote", server.urlWithCredentials()]);
      expect(down.code).to.not.equal(0);
      expect(down.stderr).to.match(/Failed to connect|Connection refused|Couldn't connect/i);
      await server.start();
      expect(server.port).to.equal(port);
      expect((await lsRemote(server.urlWithCredentials()))["refs/heads/main"]).to.equal(mainSha);
    });

    it("clones with a bearer token and rejects a wrong token", async () => {
      const bearer = await GitHttpServer.start({ projectRoot: fixture.reposDir, bearerToken: "tok-123" });
      expect(await cloneHead(bearer.url(), {}, ["http.extraHeader=Authorization: Bearer tok-123"])).to.equal(mainSha);
      const wrong = await fixture.tryGit(["-c", "http.extraHeader=Authorization: Bearer nope", "ls-remote", bearer.url()]);
      expect(wrong.code).to.not.equal(0);
      expect(bearer.requests.some((r) => r.status === 401)).to.equal(true);
      await bearer.close();
    });
  });

  describe("HTTPS with a custom CA", () => {
    let server: GitHttpServer;
    before(async () => {
      server = await GitHttpServer.start({ projectRoot: fixture.reposDir, tls: true });
    });

    it("clones when git is given the CA and fails without it", async () => {
      expect(server.url()).to.match(/^https:\/\/127\.0\.0\.1:\d+\/repo\.git$/);
      expect(server.caPem).to.contain("-----BEGIN CERTIFICATE-----");
      expect(await cloneHead(server.url(), { GIT_SSL_CAINFO: server.caFile })).to.equal(mainSha);
      const untrusted = await fixture.tryGit(["ls-remote", server.url()]);
      expect(untrusted.code).to.not.equal(0);
      expect(untrusted.stderr).to.match(/certificate|SSL|TLS/i);
    });
  });

  describe("SSH", () => {
    let ssh: GitSshServer;
    before(async () => {
      ssh = await GitSshServer.start();
    });

    it("exposes an OpenSSH client key, a known_hosts line and an ssh:// URL", () => {
      expect(ssh.clientPrivateKeyPem).to.contain("-----BEGIN OPENSSH PRIVATE KEY-----");
      expect(ssh.clientPublicKey).to.match(/^ssh-ed25519 /);
      expect(ssh.knownHostsLine).to.match(new RegExp(`^\\[127\\.0\\.0\\.1\\]:${ssh.port} ssh-ed25519 \\S+$`));
      expect(ssh.url(fixture.barePath())).to.equal(`ssh://${ssh.user}@127.0.0.1:${ssh.port}${fixture.barePath()}`);
      expect(ssh.gitSshCommand).to.contain("StrictHostKeyChecking=yes");
    });

    it("clones with the client key and known_hosts", async () => {
      expect(await cloneHead(ssh.url(fixture.barePath()), ssh.env())).to.equal(mainSha);
    });

    it("fails host key verification with a wrong known_hosts line", async () => {
      const bad = path.join(fixture.scratchDir("kh"), "known_hosts");
      fs.writeFileSync(bad, `[127.0.0.1]:${ssh.port} ${ssh.clientPublicKey.split(" ").slice(0, 2).join(" ")}\n`);
      const cmd = ssh.gitSshCommand.replace(ssh.knownHostsFile, bad);
      const result = await fixture.tryGit(["ls-remote", ssh.url(fixture.barePath())], { env: { GIT_SSH_COMMAND: cmd } });
      expect(result.code).to.not.equal(0);
      expect(result.stderr).to.match(/host key|HOST IDENTIFICATION/i);
    });

    it("accepts a push over SSH and shows it via ls-remote", async () => {
      const url = ssh.url(fixture.barePath());
      const sha = await commitInClone(url, "ssh.txt", ssh.env());
      await fixture.git(["push", "-q", url, "HEAD:refs/heads/pushed-over-ssh"], { cwd: lastClone, env: ssh.env() });
      const refs = await lsRemote(url, ssh.env());
      expect(refs["refs/heads/pushed-over-ssh"]).to.equal(sha);
      expect(refs["refs/tags/v1.0.0"]).to.equal(mainSha);
    });
  });
});
