// Small helpers shared by the git test servers: isolated git environment, running the git
// CLI (and other tools) via child_process.execFile, temp directories and loopback ports.
import { execFile, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** Fixed author/committer identity for every commit and tag made by the fixtures. */
export const GIT_IDENTITY = { name: "GitOps Test", email: "gitops-test@example.invalid" };

/** Result of a command that is allowed to fail. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Text written to the command's stdin. */
  input?: string;
  /** Kill the command after this many milliseconds (default 30 s). */
  timeoutMs?: number;
}

/** A fresh directory `<tmpdir>/gitops-git-XXXXXX`. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "gitops-git-"));
}

/** Remove a directory tree, ignoring errors (used from cleanup paths). */
export function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

/**
 * Environment for git that never reads the user's or the system's configuration: inherited
 * GIT_* and SSH_* variables are dropped, HOME points at `home`, prompts are disabled and the
 * identity is fixed. `extra` is applied last (e.g. GIT_SSH_COMMAND, GIT_SSL_CAINFO).
 */
export function isolatedGitEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith("GIT_") && !key.startsWith("SSH_")) env[key] = value;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    GIT_AUTHOR_NAME: GIT_IDENTITY.name,
    GIT_AUTHOR_EMAIL: GIT_IDENTITY.email,
    GIT_COMMITTER_NAME: GIT_IDENTITY.name,
    GIT_COMMITTER_EMAIL: GIT_IDENTITY.email,
    ...extra,
  };
}

/** Run any executable; never rejects on a non-zero exit (see `code`). */
export function runCommand(file: string, args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof (err as NodeJS.ErrnoException).code === "string") {
          reject(new Error(`cannot run ${file}: ${err.message}`));
          return;
        }
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const killed = err?.killed ? `\n(${file} killed by ${err.signal ?? "signal"}, timeout ${opts.timeoutMs ?? 30_000} ms)` : "";
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + killed });
      },
    );
    child.stdin?.on("error", () => undefined);
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}

/** Run a command and return its trimmed stdout; rejects with stderr on a non-zero exit. */
export async function runChecked(file: string, args: string[], opts: CommandOptions = {}): Promise<string> {
  const result = await runCommand(file, args, opts);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(" ")} exited with ${result.code}: ${result.stderr.trim()}`);
  }
  return result.stdout.trim();
}

/** Run `git args...`; never rejects on a non-zero exit. Pass an isolated `env`. */
export function tryGit(args: string[], opts: CommandOptions = {}): Promise<CommandResult> {
  return runCommand("git", args, opts);
}

/** Run `git args...` and return trimmed stdout; rejects with git's stderr on failure. */
export function runGit(args: string[], opts: CommandOptions = {}): Promise<string> {
  return runChecked("git", args, opts);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Poll until 127.0.0.1:port accepts connections; `failed()` may abort early with a reason. */
export async function waitForPort(port: number, timeoutMs: number, failed?: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = failed?.();
    if (reason) throw new Error(reason);
    if (await canConnect(port)) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), graceMs).unref();
  });
}
