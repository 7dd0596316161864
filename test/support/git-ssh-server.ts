// SSH git server for tests: Debian's OpenSSH sshd on a free 127.0.0.1 port with its own host
// key and a generated ed25519 client key; git runs on the server side as the current user.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { findFreePort, makeTempDir, removeDir, runChecked, waitForPort } from "./git-cli";
import { GitTestResource, trackResource, untrackResource } from "./git-registry";

/** sshd binary from the Debian package openssh-server. */
export const SSHD = "/usr/sbin/sshd";

export class GitSshServer implements GitTestResource {
  /** Port sshd listens on (kept across stop()/start()). */
  port = 0;
  /** Login user: whatever user this process runs as (root in CI). */
  readonly user = os.userInfo().username;
  /** Client private key, OpenSSH PEM format (`-----BEGIN OPENSSH PRIVATE KEY-----`). */
  clientPrivateKeyPem = "";
  /** Client public key line (`ssh-ed25519 AAAA... comment`). */
  clientPublicKey = "";
  /** File holding the client private key (mode 0600). */
  readonly clientKeyFile: string;
  /** Server host public key (`ssh-ed25519 AAAA...`). */
  hostPublicKey = "";
  /** File with knownHostsLine. */
  readonly knownHostsFile: string;
  private readonly dir: string;
  private proc?: ChildProcess;
  private log = "";
  private closed = false;

  private constructor() {
    this.dir = makeTempDir();
    this.clientKeyFile = path.join(this.dir, "client_ed25519");
    this.knownHostsFile = path.join(this.dir, "known_hosts");
  }

  /** Generate keys, write the config and start sshd; resolves once the port accepts connections. */
  static async start(): Promise<GitSshServer> {
    if (!fs.existsSync(SSHD)) {
      throw new Error(`${SSHD} not found: install the Debian package openssh-server (apt-get install -y openssh-server)`);
    }
    const server = new GitSshServer();
    trackResource(server);
    try {
      await server.prepare();
      await server.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** `[127.0.0.1]:<port> <host key>` as it appears in known_hosts. */
  get knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostPublicKey}`;
  }

  /** Value for GIT_SSH_COMMAND: the client key, our known_hosts, strict host key checking. */
  get gitSshCommand(): string {
    return sshCommand(this.clientKeyFile, this.knownHostsFile);
  }

  /** `{ GIT_SSH_COMMAND }`, to merge into a git env. */
  env(): NodeJS.ProcessEnv {
    return { GIT_SSH_COMMAND: this.gitSshCommand };
  }

  /** `ssh://<user>@127.0.0.1:<port><absolute repo path>` */
  url(repoPath: string): string {
    if (!path.isAbsolute(repoPath)) throw new Error(`repo path must be absolute: ${repoPath}`);
    return `ssh://${this.user}@127.0.0.1:${this.port}${repoPath}`;
  }

  /** Whether sshd is running. */
  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Start (or restart, same port) sshd and wait until it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
    this.log = "";
    const proc = spawn(SSHD, ["-D", "-e", "-f", path.join(this.dir, "sshd_config")], {
      stdio: ["ignore", "ignore", "pipe"],
      detached: true,
    });
    this.proc = proc;
    // Do not keep the test process alive; the registry's exit handler kills sshd.
    proc.unref();
    (proc.stderr as unknown as { unref?: () => void } | null)?.unref?.();
    proc.stderr?.on("data", (d: Buffer) => (this.log = (this.log + d.toString()).slice(-8000)));
    let spawnError: Error | undefined;
    proc.once("error", (err) => (spawnError = err));
    await waitForPort(this.port, 10_000, () => {
      if (spawnError) return `cannot start sshd: ${spawnError.message}`;
      if (proc.exitCode !== null) return `sshd exited with ${proc.exitCode}: ${this.log.trim()}`;
      return undefined;
    });
  }

  /** Kill sshd (and its session processes); start() brings it back on the same port. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    killGroup(proc, "SIGTERM");
    const timer = setTimeout(() => killGroup(proc, "SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Stop sshd and remove the temp dir (keys, config, known_hosts). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.stop();
    this.killSync();
  }

  killSync(): void {
    this.closed = true;
    untrackResource(this);
    if (this.proc && this.running) killGroup(this.proc, "SIGKILL");
    removeDir(this.dir);
  }

  /** sshd's own log (stderr), useful in assertion messages. */
  get sshdLog(): string {
    return this.log;
  }

  private async prepare(): Promise<void> {
    const hostKey = path.join(this.dir, "ssh_host_ed25519_key");
    await runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gitops-test-host", "-f", hostKey]);
    await runChecked("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "gitops-test-client", "-f", this.clientKeyFile]);
    this.clientPrivateKeyPem = fs.readFileSync(this.clientKeyFile, "utf8");
    this.clientPublicKey = fs.readFileSync(`${this.clientKeyFile}.pub`, "utf8").trim();
    this.hostPublicKey = fs.readFileSync(`${hostKey}.pub`, "utf8").trim().split(/\s+/).slice(0, 2).join(" ");
    fs.writeFileSync(path.join(this.dir, "authorized_keys"), `${this.clientPublicKey}\n`, { mode: 0o600 });
    this.port = await findFreePort();
    fs.writeFileSync(this.knownHostsFile, `${this.knownHostsLine}\n`);
    const config = [
      `Port ${this.port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${path.join(this.dir, "authorized_keys")}`,
      `PidFile ${path.join(this.dir, "sshd.pid")}`,
      "AuthenticationMethods publickey",
      "PubkeyAuthentication yes",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "UsePAM no",
      "StrictModes no",
      "UseDNS no",
      "PrintMotd no",
      "X11Forwarding no",
      "AcceptEnv GIT_PROTOCOL",
      "MaxStartups 100",
      "MaxSessions 100",
      "LogLevel ERROR",
      "",
    ];
    fs.writeFileSync(path.join(this.dir, "sshd_config"), config.join("\n"));
  }
}

/** An ssh command line for GIT_SSH_COMMAND using exactly this key and known_hosts file. */
export function sshCommand(keyFile: string, knownHostsFile: string): string {
  return [
    "ssh -F /dev/null",
    `-i ${keyFile}`,
    `-o UserKnownHostsFile=${knownHostsFile}`,
    "-o GlobalKnownHostsFile=/dev/null",
    "-o StrictHostKeyChecking=yes",
    "-o IdentitiesOnly=yes",
    "-o BatchMode=yes",
    "-o ConnectTimeout=10",
  ].join(" ");
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (proc.pid) process.kill(-proc.pid, signal);
  } catch {
    proc.kill(signal);
  }
}
