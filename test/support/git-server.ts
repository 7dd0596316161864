// Real git servers for tests, in one import:
//   GitFixture      work repo + bare repos (file://), commits, branches, tags, push
//   GitHttpServer   smart HTTP(S) via git-http-backend, basic/bearer auth, stop/start, request log
//   GitSshServer    OpenSSH sshd with generated host/client keys and a known_hosts line
// Everything lives in `<tmpdir>/gitops-git-*` on 127.0.0.1 and is closed by
// stopAllGitServers() (also exported as a mocha root hook: `--require .../git-server.js`).
import { GitFixture, GitFixtureOptions } from "./git-fixture";
import { GitHttpServer } from "./git-http-server";
import { stopAllGitServers } from "./git-registry";
import { GitSshServer } from "./git-ssh-server";

export { CommandResult, GIT_IDENTITY, isolatedGitEnv, makeTempDir, runGit, tryGit } from "./git-cli";
export { CommitOptions, GitFixture, GitFixtureOptions } from "./git-fixture";
export { GIT_HTTP_BACKEND, GitHttpRequestLog, GitHttpServer, GitHttpServerOptions } from "./git-http-server";
export { liveGitResourceCount, stopAllGitServers } from "./git-registry";
export { GitSshServer, SSHD, sshCommand } from "./git-ssh-server";
export { TestCertificates, createClientCertificate, createTestCertificates } from "./git-tls";

export interface GitServersOptions extends GitFixtureOptions {
  /** Name of the bare repo to create and serve (default `repo.git`). */
  repo?: string;
  /** Initial files committed on `main` (default: a README). Pass `{}` for an empty commit. */
  files?: Record<string, string | null>;
  /** Start an HTTP server with these credentials. */
  http?: { basicAuth?: { username: string; password: string }; bearerToken?: string; tls?: boolean; host?: string };
  /** Start an sshd serving the repo. */
  ssh?: boolean;
}

/** A fixture with one served repo and the requested servers. */
export interface GitServers {
  fixture: GitFixture;
  /** Absolute path of the bare repo. */
  barePath: string;
  /** sha of the initial commit. */
  initialCommit: string;
  fileUrl: string;
  http?: GitHttpServer;
  ssh?: GitSshServer;
  /** URLs of the repo for every started transport. */
  urls: { file: string; http?: string; ssh?: string };
  /** Close the servers and the fixture. */
  close(): Promise<void>;
}

/** Convenience: fixture + bare repo + initial commit on main + optional HTTP(S)/SSH servers. */
export async function startGitServers(opts: GitServersOptions = {}): Promise<GitServers> {
  const repo = opts.repo ?? "repo.git";
  const fixture = await GitFixture.create(opts);
  const barePath = await fixture.createBareRepo(repo);
  const initialCommit = await fixture.commitFiles(opts.files ?? { "README.md": "# test repo\n" }, "initial commit");
  if (opts.autoPublish === false) await fixture.publish();
  const http = opts.http ? await GitHttpServer.start({ projectRoot: fixture.reposDir, ...opts.http }) : undefined;
  const ssh = opts.ssh ? await GitSshServer.start() : undefined;
  const fileUrl = fixture.fileUrl(repo);
  return {
    fixture,
    barePath,
    initialCommit,
    fileUrl,
    http,
    ssh,
    urls: { file: fileUrl, http: http?.url(repo), ssh: ssh?.url(barePath) },
    async close() {
      await ssh?.close();
      await http?.close();
      await fixture.close();
    },
  };
}

/** Mocha root hooks: stop every git server after the whole run. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopAllGitServers();
  },
};
