// Git operations for GitRepository, on the real git CLI: resolve a reference remotely
// (ls-remote: no clone when nothing changed) and make a shallow checkout of one revision.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as semver from "semver";
import { GitAuth, gitEnv } from "./auth";
import { timerMs } from "../../runtime/clock";

export interface GitRef { branch?: string; tag?: string; semver?: string; name?: string; commit?: string }

/** Where a reference points: the revision string Flux reports and what to fetch. */
export interface ResolvedRef {
  /** Flux revision format: `<branch|tag|name>@sha1:<hex>`, or `sha1:<hex>` for a bare commit. */
  revision: string;
  commit: string;
  /** The ref to fetch, or the commit itself. */
  fetch: string;
  /** Named part of the revision (branch, tag or ref name); empty for a bare commit. */
  refName: string;
  /** Tag the revision came from (tag or semver), for tag verification. */
  tag?: string;
  /** spec.ref.commit pinned this commit: check it out exactly, even if not the branch tip. */
  pinned?: boolean;
}

export class GitError extends Error {
  constructor(message: string, readonly kind: "auth" | "notfound" | "network" | "other", options?: ErrorOptions) { super(message, options); }
}

export interface GitOptions {
  auth?: GitAuth;
  /** spec.timeout: the budget of one git operation (ls-remote, or the whole checkout). */
  timeoutSeconds: number;
  cwd?: string;
  /** Epoch ms by which the operation must end (set by checkout for its several commands). */
  deadline?: number;
}

function classify(stderr: string): GitError["kind"] {
  if (/Authentication failed|could not read Username|HTTP (Basic: Access denied|401)|returned error: 40[13]|Permission denied \(publickey|terminal prompts disabled/i.test(stderr)) return "auth";
  if (/Could not resolve host|Connection refused|Connection timed out|unable to access|Could not read from remote|Host key verification failed|Operation timed out|early EOF|RPC failed/i.test(stderr)) return "network";
  if (/not found|couldn't find remote ref|does not appear to be a git repository/i.test(stderr)) return "notfound";
  return "other";
}

/** Turns git's stderr into one line a user can act on. */
function explain(stderr: string, kind: GitError["kind"]): string {
  // GIT_ASKPASS=/bin/false is how prompts are refused; its "unable to read askpass" line is noise.
  const lines = stderr.split("\n").map((l) => l.replace(/^(fatal|error): /, "").trim())
    .filter((l) => l && !l.startsWith("hint:") && !l.startsWith("unable to read askpass response"));
  const text = lines.join("; ") || "git failed without a message";
  if (/Host key verification failed/.test(stderr)) return `${text} (the server's host key is not in known_hosts of the Secret)`;
  if (kind === "auth") return `${text} (check the credentials in the Secret)`;
  return text;
}

/** `text` with the password of every URL's userinfo masked (`https://user:***@host/`): messages go to Events, logs and alerts. */
export function redactUserinfo(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^/@:\s'"]*):[^/@\s'"]*@/gi, "$1:***@");
}

export async function git(args: string[], opts: GitOptions): Promise<string> {
  const env = gitEnv(opts.auth, opts.timeoutSeconds);
  try {
    return await new Promise<string>((resolve, reject) => {
      const timeout = opts.deadline === undefined ? opts.timeoutSeconds * 1000 : Math.max(1, opts.deadline - Date.now());
      execFile("git", args, { cwd: opts.cwd, env: env.env, timeout: timerMs(timeout), maxBuffer: 64 * 1024 * 1024, killSignal: "SIGKILL" },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          // The cause is logged: its message is the command line, with the URL as written in spec.url.
          const cause = new Error(redactUserinfo(err.message));
          if (e.killed || e.signal === "SIGKILL") return reject(new GitError(`git ${args[0]} timed out after ${opts.timeoutSeconds}s`, "network", { cause }));
          const kind = classify(stderr);
          reject(new GitError(explain(stderr, kind), kind, { cause }));
        });
    });
  } finally {
    env.dispose();
  }
}

function parseLsRemote(out: string): Map<string, string> {
  const refs = new Map<string, string>();
  for (const line of out.split("\n")) {
    const [sha, ref] = line.split("\t");
    if (sha && ref) refs.set(ref, sha);
  }
  return refs;
}

/** The tag's commit: the peeled `^{}` entry for annotated tags, the tag itself otherwise. */
function tagCommit(refs: Map<string, string>, tag: string): string | undefined {
  return refs.get(`refs/tags/${tag}^{}`) ?? refs.get(`refs/tags/${tag}`);
}

/** Picks the highest tag satisfying a Masterminds-style range (commas mean AND). */
export function latestSemverTag(tags: string[], range: string): string | undefined {
  const r = semver.validRange(range.replace(/,/g, " "), { loose: true });
  if (!r) throw new GitError(`semver parse error: '${range}' is not a valid version range`, "other");
  let best: { tag: string; v: semver.SemVer } | undefined;
  for (const tag of tags) {
    const v = semver.coerce(tag, { loose: true }) && semver.parse(tag.replace(/^v/, ""), { loose: true });
    if (!v || !semver.satisfies(v, r, { loose: true, includePrerelease: /-/.test(range) })) continue;
    if (!best || semver.gt(v, best.v)) best = { tag, v };
  }
  return best?.tag;
}

/** Resolves spec.ref against the remote without cloning. Precedence: commit > name > semver > tag > branch. */
export async function resolveRef(url: string, ref: GitRef | undefined, opts: GitOptions): Promise<ResolvedRef> {
  const r = ref ?? {};
  if (r.commit) {
    const sha = r.commit.toLowerCase();
    if (!/^[0-9a-f]{7,40}$/.test(sha)) throw new GitError(`invalid commit '${r.commit}': must be a hex SHA-1`, "other");
    return { revision: r.branch ? `${r.branch}@sha1:${sha}` : `sha1:${sha}`, commit: sha, fetch: r.branch ? `refs/heads/${r.branch}` : sha, refName: r.branch ?? "", pinned: true };
  }
  if (r.name) {
    const refs = parseLsRemote(await git(["ls-remote", url, r.name, `${r.name}^{}`], opts));
    const sha = refs.get(`${r.name}^{}`) ?? refs.get(r.name);
    if (!sha) throw new GitError(`couldn't find remote ref "${r.name}"`, "notfound");
    const tag = r.name.startsWith("refs/tags/") ? r.name.slice(10) : undefined;
    return { revision: `${r.name}@sha1:${sha}`, commit: sha, fetch: r.name, refName: r.name, tag };
  }
  if (r.semver) {
    const refs = parseLsRemote(await git(["ls-remote", "--tags", url], opts));
    const tags = [...refs.keys()].filter((k) => !k.endsWith("^{}")).map((k) => k.slice("refs/tags/".length));
    const tag = latestSemverTag(tags, r.semver);
    if (!tag) throw new GitError(`no match found for semver: ${r.semver}`, "notfound");
    return { revision: `${tag}@sha1:${tagCommit(refs, tag)}`, commit: tagCommit(refs, tag)!, fetch: `refs/tags/${tag}`, refName: tag, tag };
  }
  if (r.tag) {
    const refs = parseLsRemote(await git(["ls-remote", url, `refs/tags/${r.tag}`, `refs/tags/${r.tag}^{}`], opts));
    const sha = tagCommit(refs, r.tag);
    if (!sha) throw new GitError(`couldn't find remote ref "refs/tags/${r.tag}"`, "notfound");
    return { revision: `${r.tag}@sha1:${sha}`, commit: sha, fetch: `refs/tags/${r.tag}`, refName: r.tag, tag: r.tag };
  }
  const branch = r.branch ?? "master";
  const refs = parseLsRemote(await git(["ls-remote", url, `refs/heads/${branch}`], opts));
  const sha = refs.get(`refs/heads/${branch}`);
  if (!sha) throw new GitError(`couldn't find remote ref "refs/heads/${branch}"`, "notfound");
  return { revision: `${branch}@sha1:${sha}`, commit: sha, fetch: `refs/heads/${branch}`, refName: branch };
}

export interface CheckoutOptions extends GitOptions {
  sparseCheckout?: string[];
  recurseSubmodules?: boolean;
}

/**
 * Shallow checkout of a resolved reference into an empty `dir`. Returns the commit actually
 * checked out (the remote may have moved since resolveRef).
 */
export async function checkout(url: string, ref: ResolvedRef, dir: string, opts: CheckoutOptions): Promise<ResolvedRef> {
  fs.mkdirSync(dir, { recursive: true });
  // One budget for the whole checkout (fetch, checkout, submodules), as Flux's clone context.
  const o = { ...opts, cwd: dir, deadline: Date.now() + opts.timeoutSeconds * 1000 };
  await git(["init", "-q"], o);
  await git(["remote", "add", "origin", url], o);
  // A pinned commit inside a branch may be older than the tip: fetch that branch's history.
  const depth = ref.pinned && ref.fetch !== ref.commit ? [] : ["--depth", "1"];
  await git(["fetch", "-q", "--no-tags", ...depth, "origin", ref.fetch], o);
  if (opts.sparseCheckout?.length) {
    await git(["sparse-checkout", "set", "--no-cone", ...opts.sparseCheckout.map((p) => `/${p.replace(/^\.?\/+/, "").replace(/\/*$/, "/")}`)], o);
  }
  const target = ref.pinned ? ref.commit : "FETCH_HEAD";
  try {
    await git(["checkout", "-q", "--detach", target], o);
  } catch (e) {
    if (ref.pinned) throw new GitError(`commit '${ref.commit}' not found${ref.refName ? ` in branch '${ref.refName}'` : ""}`, "notfound", { cause: e });
    throw e;
  }
  if (opts.recurseSubmodules) await git(["submodule", "update", "--init", "--recursive", "--depth", "1"], o);
  const head = (await git(["rev-parse", "HEAD"], o)).trim();
  const name = ref.refName ? `${ref.refName}@` : "";
  return { ...ref, commit: head, revision: `${name}sha1:${head}` };
}
