/**
 * One short-lived git session against a remote branch, with the real git CLI in a private temp
 * dir. Commits are built with plumbing (read-tree / update-index / commit-tree) on top of the
 * fetched tip, so unrelated files are never checked out or touched, an unchanged tree is never
 * committed (no "empty commit" failures), and an empty repository or a missing branch simply
 * gets a first commit. Pushes that lose a race are retried on top of the new tip.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface GitCredentials {
  ssh?: { privateKey?: string; knownHosts?: string; username?: string };
  http?: { username?: string; password?: string; bearerToken?: string; certificateAuthority?: string };
}

export interface GitTarget {
  url: string;
  branch: string;
  credentials?: GitCredentials;
  author?: { name?: string; email?: string };
  /** Per git command, default 60 s. */
  timeoutMs?: number;
}

export type GitErrorKind = "auth" | "hostkey" | "tls" | "unreachable" | "not-found" | "rejected" | "other";

export class GitError extends Error {
  constructor(readonly kind: GitErrorKind, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "GitError";
  }
}

const hints: Record<GitErrorKind, string> = {
  auth: "the server rejected the credentials: check ssh.privateKey (and that its public key is a deploy key with write access) or http.username/password/bearerToken",
  hostkey: "the server's host key does not match ssh.knownHosts: update knownHosts with the host's current key",
  tls: "the server's TLS certificate is not trusted: set http.certificateAuthority to the PEM of the CA that signed it",
  unreachable: "the git server cannot be reached: check the url (host, port) and that the server is up",
  "not-found": "the repository does not exist at this url: check the url (create the repository first)",
  rejected: "the push was rejected",
  other: "",
};

function classify(stderr: string): GitErrorKind {
  const s = stderr.toLowerCase();
  if (s.includes("host key verification failed") || s.includes("remote host identification has changed")) return "hostkey";
  if (/authentication failed|could not read username|permission denied \(publickey|http (basic: )?access denied|returned error: 40[13]|terminal prompts disabled|invalid username or password|the requested url returned error: 401|the requested url returned error: 403/.test(s)) return "auth";
  // Before "unreachable": git reports an untrusted certificate as "unable to access ...".
  if (/server certificate verification failed|ssl certificate problem|certificate verify failed|self[- ]signed certificate|unable to get local issuer certificate|certificate has expired|no alternative certificate subject name|ssl: certificate subject name/.test(s)) return "tls";
  if (/repository not found|does not appear to be a git repository|returned error: 404|not found/.test(s)) return "not-found";
  if (/could not resolve host|connection refused|failed to connect|connection timed out|operation timed out|network is unreachable|no route to host|couldn't connect|connection reset|ssl_connect|unable to access|could not read from remote repository/.test(s)) return "unreachable";
  if (/\[rejected\]|non-fast-forward|fetch first|cannot lock ref|failed to update ref|\[remote rejected\]|failed to push some refs/.test(s)) return "rejected";
  return "other";
}

/** `ssh://user@host:port/p` with the user replaced (or added) when `username` is set. */
export function withSshUser(url: string, username?: string): string {
  if (!username || !url.startsWith("ssh://")) return url;
  const u = new URL(url);
  u.username = username;
  return u.toString();
}

/** Removes credentials embedded in a URL, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url;
  }
}

export interface RemoteState {
  /** Tip of the branch, undefined when the branch does not exist. */
  tip?: string;
  /** Commit HEAD points at, when the branch does not exist but others do. */
  head?: string;
  /** No refs at all. */
  empty: boolean;
}

export class GitSession {
  private readonly dir: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly url: string;
  private fetched?: string;

  private constructor(private readonly target: GitTarget) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-provider-git-"));
    fs.chmodSync(this.dir, 0o700);
    this.url = withSshUser(target.url, target.credentials?.ssh?.username);
    this.env = this.buildEnv();
  }

  /** Runs `fn` in a fresh session and always removes the temp dir (keys included). */
  static async with<T>(target: GitTarget, fn: (s: GitSession) => Promise<T>): Promise<T> {
    const s = new GitSession(target);
    try {
      // A work tree is never checked out; commits are built with an index file and plumbing.
      await s.git(["init", "-q", "."]);
      return await fn(s);
    } finally {
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  }

  private file(name: string, content: string): string {
    const f = path.join(this.dir, name);
    fs.writeFileSync(f, content.endsWith("\n") ? content : content + "\n", { mode: 0o600 });
    return f;
  }

  private buildEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("GIT_") && !k.startsWith("SSH_")) env[k] = v;
    const config: [string, string][] = [["protocol.version", "2"], ["init.defaultBranch", this.target.branch]];
    const creds = this.target.credentials;
    const http = creds?.http;
    if (http?.bearerToken) config.push(["http.extraHeader", `Authorization: Bearer ${http.bearerToken}`]);
    else if (http?.password !== undefined || http?.username !== undefined) {
      const basic = Buffer.from(`${http.username ?? "git"}:${http.password ?? ""}`).toString("base64");
      config.push(["http.extraHeader", `Authorization: Basic ${basic}`]);
    }
    if (http?.certificateAuthority) config.push(["http.sslCAInfo", this.file("ca.crt", http.certificateAuthority)]);
    const author = this.target.author ?? {};
    Object.assign(env, {
      HOME: this.dir,
      XDG_CONFIG_HOME: path.join(this.dir, ".config"),
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_TERMINAL_PROMPT: "0",
      GIT_ASKPASS: "",
      LC_ALL: "C",
      GIT_AUTHOR_NAME: author.name || "Flux",
      GIT_AUTHOR_EMAIL: author.email ?? "",
      GIT_COMMITTER_NAME: author.name || "Flux",
      GIT_COMMITTER_EMAIL: author.email ?? "",
      GIT_CONFIG_COUNT: String(config.length),
    });
    config.forEach(([k, v], i) => {
      env[`GIT_CONFIG_KEY_${i}`] = k;
      env[`GIT_CONFIG_VALUE_${i}`] = v;
    });
    const ssh = creds?.ssh;
    if (this.url.startsWith("ssh://")) {
      const opts = ["-o BatchMode=yes", "-o ConnectTimeout=15", "-o IdentitiesOnly=yes", "-o StrictHostKeyChecking=yes"];
      if (ssh?.privateKey) opts.push(`-i ${this.file("identity", ssh.privateKey)}`);
      opts.push(`-o UserKnownHostsFile=${this.file("known_hosts", ssh?.knownHosts ?? "")}`);
      env.GIT_SSH_COMMAND = `ssh ${opts.join(" ")}`;
    }
    return env;
  }

  /** Runs git in the session dir; rejects with a GitError that names the operation and what to fix. */
  git(args: string[], input?: string, what?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile("git", args, { cwd: this.dir, env: this.env, timeout: this.target.timeoutMs ?? 60_000, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (!err) return resolve(String(stdout));
        const text = String(stderr).trim() || err.message;
        const timedOut = (err as { killed?: boolean }).killed;
        const kind = timedOut ? "unreachable" : classify(text);
        const op = what ?? `git ${args[0]}`;
        const hint = kind === "auth"
          ? this.target.url.startsWith("ssh://")
            ? "the server rejected the SSH key: check ssh.privateKey, and that its public key is registered (deploy key) with write access"
            : "the server rejected the credentials: check http.username/password or http.bearerToken, and that they may push"
          : hints[kind];
        const detail = text.split("\n").filter((l) => l.trim() && !l.startsWith("hint:")).slice(-3).join("; ");
        reject(new GitError(kind, `${op} ${redactUrl(this.target.url)} failed${timedOut ? " (timed out)" : ""}: ${detail}${hint ? `. ${hint}` : ""}`));
      });
      child.stdin?.on("error", () => undefined);
      child.stdin?.end(input ?? "");
    });
  }

  /** Asks the server for the branch tip (and HEAD, for a missing branch). */
  async remote(): Promise<RemoteState> {
    const out = await this.git(["ls-remote", "--symref", this.url, "HEAD", `refs/heads/${this.target.branch}`], undefined, "git ls-remote");
    let tip: string | undefined;
    let head: string | undefined;
    for (const line of out.split("\n")) {
      const [sha, ref] = line.split("\t");
      if (!sha || !ref || sha.startsWith("ref:")) continue;
      if (ref === `refs/heads/${this.target.branch}`) tip = sha;
      else if (ref === "HEAD") head = sha;
    }
    return { tip, head, empty: tip === undefined && head === undefined && out.trim() === "" };
  }

  /** Fetches the branch tip (or HEAD when the branch is missing); returns the commit, if any. */
  async fetch(): Promise<RemoteState & { base?: string }> {
    const state = await this.remote();
    let base = state.tip ?? state.head;
    if (base) {
      const ref = state.tip ? `refs/heads/${this.target.branch}` : "HEAD";
      await this.git(["fetch", "-q", "--no-tags", "--depth=1", this.url, `+${ref}:refs/gitops/base`], undefined, "git fetch");
      // The ref may have moved since ls-remote: build on what was actually fetched.
      base = (await this.git(["rev-parse", "--verify", "refs/gitops/base^{commit}"])).trim();
      if (state.tip) state.tip = base;
    }
    this.fetched = base;
    return { ...state, base };
  }

  /** Contents of files at the fetched commit; null for a missing file. */
  async read(paths: readonly string[]): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const p of paths) {
      if (!this.fetched) {
        out[p] = null;
        continue;
      }
      try {
        out[p] = await this.git(["cat-file", "blob", `${this.fetched}:${p}`]);
      } catch {
        out[p] = null;
      }
    }
    return out;
  }

  /** Files under `dir` at the fetched commit. */
  async list(dir: string): Promise<string[]> {
    if (!this.fetched) return [];
    const out = await this.git(["ls-tree", "-r", "--name-only", this.fetched, "--", dir === "" ? "." : dir]);
    return out.split("\n").filter(Boolean);
  }

  /**
   * A commit on top of the fetched commit with `changes` (content, or null to delete); undefined
   * when the tree would not change.
   */
  async commit(changes: Record<string, string | null>, message: string): Promise<string | undefined> {
    const index = path.join(this.dir, "gitops-index");
    const env = { GIT_INDEX_FILE: index };
    const run = (args: string[], input?: string) => this.gitEnv(args, env, input);
    fs.rmSync(index, { force: true });
    if (this.fetched) await run(["read-tree", this.fetched]);
    else await run(["read-tree", "--empty"]);
    for (const [p, content] of Object.entries(changes)) {
      if (content === null) await run(["update-index", "--force-remove", "--", p]);
      else {
        const blob = (await run(["hash-object", "-w", "--stdin"], content)).trim();
        await run(["update-index", "--add", "--cacheinfo", `100644,${blob},${p}`]);
      }
    }
    const tree = (await run(["write-tree"])).trim();
    if (this.fetched) {
      const old = (await this.git(["rev-parse", `${this.fetched}^{tree}`])).trim();
      if (old === tree) return undefined;
    } else if (Object.values(changes).every((c) => c === null)) return undefined;
    const parent = this.fetched ? ["-p", this.fetched] : [];
    return (await run(["commit-tree", tree, ...parent], message)).trim();
  }

  private gitEnv(args: string[], extra: NodeJS.ProcessEnv, input?: string): Promise<string> {
    const saved = { ...this.env };
    Object.assign(this.env, extra);
    const p = this.git(args, input);
    for (const k of Object.keys(extra)) {
      if (saved[k] === undefined) delete this.env[k];
      else this.env[k] = saved[k];
    }
    return p;
  }

  /** Pushes `commit` to the branch without force; a lost race is a GitError of kind "rejected". */
  async push(commit: string): Promise<void> {
    await this.git(["push", "-q", this.url, `${commit}:refs/heads/${this.target.branch}`], undefined, "git push");
  }
}

export interface WriteResult {
  /** The branch tip after the write (the new commit, or the unchanged tip). */
  revision: string;
  /** Whether a commit was pushed. */
  pushed: boolean;
  attempts: number;
}

/**
 * Makes the branch hold `changes`: fetch, commit on top, push; when the push loses a race
 * (another writer pushed first), fetch the new tip and apply the same changes on top of it, up to
 * `maxAttempts` times with jittered backoff. `guard` runs on each fetched state and may throw to
 * abort before anything is pushed.
 */
export async function writeFiles(
  target: GitTarget,
  changes: Record<string, string | null>,
  message: string,
  opts: { maxAttempts?: number; guard?: (s: GitSession, base: string | undefined) => Promise<void> } = {},
): Promise<WriteResult> {
  const max = opts.maxAttempts ?? 8;
  for (let attempt = 1; ; attempt++) {
    // A fresh session per attempt: a shallow repository that already holds a rejected commit
    // can negotiate itself out of objects it needs (seen over smart HTTP).
    const outcome = await GitSession.with(target, async (s): Promise<WriteResult | GitError> => {
      const { base } = await s.fetch();
      if (opts.guard) await opts.guard(s, base);
      const commit = await s.commit(changes, message);
      if (!commit) {
        if (!base) throw new GitError("other", `nothing to write to the empty repository ${redactUrl(target.url)}`);
        return { revision: base, pushed: false, attempts: attempt };
      }
      try {
        await s.push(commit);
        return { revision: commit, pushed: true, attempts: attempt };
      } catch (e) {
        if (e instanceof GitError && e.kind === "rejected") return e;
        throw e;
      }
    });
    if (!(outcome instanceof GitError)) return outcome;
    if (attempt >= max) {
      throw new GitError("rejected", `${outcome.message} (still losing the race after ${attempt} attempts; another writer keeps pushing to ${target.branch})`);
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random())));
  }
}

/** Reads files at the branch tip (one fetch). */
export async function readFiles(target: GitTarget, paths: readonly string[]): Promise<{ revision?: string; files: Record<string, string | null> }> {
  return GitSession.with(target, async (s) => {
    const st = await s.fetch();
    return { revision: st.tip, files: st.tip ? await s.read(paths) : Object.fromEntries(paths.map((p) => [p, null])) };
  });
}

/** Whether `ancestor` is `descendant` or one of its ancestors on the branch (looks back `depth` commits). */
export async function isAncestor(target: GitTarget, ancestor: string, descendant: string, depth = 200): Promise<boolean> {
  if (ancestor === descendant) return true;
  return GitSession.with(target, async (s) => {
    const st = await s.remote();
    if (!st.tip) return false;
    await s.git(["fetch", "-q", "--no-tags", `--depth=${depth}`, withSshUser(target.url, target.credentials?.ssh?.username), `+refs/heads/${target.branch}:refs/gitops/tip`], undefined, "git fetch");
    try {
      await s.git(["merge-base", "--is-ancestor", ancestor, descendant]);
      return true;
    } catch {
      return false;
    }
  });
}
