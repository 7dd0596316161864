// GitRepository: resolve spec.ref remotely; when the revision (or anything the artifact is
// built from) changed, make a shallow checkout, add includes, apply ignore rules, store a
// tarball and report it in status.artifact exactly as Flux does. Failures keep the last good
// artifact in storage and in status.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { ConditionType as CT, FieldManager, Reason } from "../../api/meta";
import { GitRepository, GitRepositoryInclude, GitRepositoryNames } from "../../api/source/v1/git-repository";
import { jittered } from "../../runtime/backoff";
import { markFalse, markReconciling, markStalled, markTrue, markUnknown, removeCondition } from "../../runtime/conditions";
import { ReconcileContext } from "../../runtime/controller";
import { parseDuration } from "../../runtime/duration";
import { deepEqual } from "../../runtime/json-merge";
import { ObjectKey } from "../../runtime/keys";
import { Result } from "../../runtime/result";
import { authFromSecretData, GitAuth, GitConfigError, proxyFromSecretData } from "./auth";
import { checkout, GitError, redactUserinfo, resolveRef, ResolvedRef } from "./client";
import { verifyCheckout, VerificationError } from "./verify";
import { filterFiles, selectFiles } from "../ignore";
import { reconcileObject } from "../../runtime/reconcile-object";
import { Storage, StorageError } from "../../runtime/artifact-storage";

const exec = promisify(execFile);
const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
export const gitRepositories = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
const REVISION_ANNOTATION = "source.toolkit.fluxcd.io/revision";

export interface GitRepositoryDeps { storage: Storage }

/** A failure with the condition it belongs to. Stalled ones need a spec change, not a retry. */
class Failure extends Error {
  constructor(readonly condition: string, readonly reason: string, message: string, readonly stalled = false, options?: ErrorOptions) { super(message, options); }
}

export function reconcileGitRepository(deps: GitRepositoryDeps) {
  return (key: ObjectKey, ctx: ReconcileContext<GitRepository>): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<GitRepository & { status?: Record<string, unknown> }>, {
      fieldManager: FieldManager.Source,
      finalize: async (obj) => {
        deps.storage.removeAll(GitRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!);
        return Result.done();
      },
      reconcile: (obj) => reconcileSteps(obj, ctx, deps),
    });
}

async function reconcileSteps(obj: GitRepository, ctx: ReconcileContext<GitRepository>, deps: GitRepositoryDeps): Promise<Result> {
  const status = (obj.status ??= {});
  const gen = obj.metadata.generation ?? 0;
  const interval = parseDuration(obj.spec.interval);
  if (status.observedGeneration !== gen) markReconciling(obj, Reason.Progressing, `processing object: new generation ${status.observedGeneration ?? -1} -> ${gen}`);
  // The artifact in status must exist in storage, or it is rebuilt.
  if (status.artifact && !deps.storage.exists(status.artifact)) {
    markReconciling(obj, Reason.Progressing, "building artifact: disappeared from storage");
    removeCondition(obj, CT.ArtifactInStorage);
  }
  try {
    const outcome = await produceArtifact(obj, ctx, deps);
    for (const t of [CT.FetchFailed, CT.StorageOperationFailed, CT.IncludeUnavailable, CT.ArtifactOutdated, CT.Reconciling, CT.Stalled]) removeCondition(obj, t);
    const msg = `stored artifact for revision '${status.artifact!.revision}'`;
    markTrue(obj, CT.ArtifactInStorage, Reason.Succeeded, msg);
    markTrue(obj, CT.Ready, Reason.Succeeded, msg);
    status.observedGeneration = gen;
    if (outcome.newArtifact) {
      await ctx.events.normal(obj, "NewArtifact", `stored artifact for commit '${outcome.subject}'`, { [REVISION_ANNOTATION]: status.artifact!.revision });
    }
    return Result.requeueAfter(jittered(interval, ctx.intervalJitter));
  } catch (err) {
    const f = err instanceof Failure ? err : new Failure(CT.StorageOperationFailed, Reason.ArchiveOperationFailed, (err as Error).message, false, { cause: err });
    // SourceVerified has positive polarity (False on failure, already set); the others are abnormal-true.
    if (f.condition === CT.SourceVerified) removeCondition(obj, CT.FetchFailed);
    else markTrue(obj, f.condition, f.reason, f.message);
    markFalse(obj, CT.Ready, f.reason, f.message);
    await ctx.events.warning(obj, f.reason, f.message);
    if (f.stalled) {
      markStalled(obj, f.reason, f.message);
      removeCondition(obj, CT.Reconciling);
      status.observedGeneration = gen;
      return Result.terminal(f);
    }
    markReconciling(obj, Reason.ProgressingWithRetry, f.message);
    return Result.retry(f);
  }
}

async function secretData(ctx: ReconcileContext<GitRepository>, ns: string, name: string): Promise<Record<string, string>> {
  const secret = await ctx.client.get<{ data?: Record<string, string> } & import("../../runtime/keys").KubeObject>(secrets, { namespace: ns, name }, { signal: ctx.signal });
  if (!secret) throw new Failure(CT.FetchFailed, Reason.AuthenticationFailed, `failed to get secret '${ns}/${name}': secrets "${name}" not found`);
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

async function credentials(obj: GitRepository, ctx: ReconcileContext<GitRepository>): Promise<GitAuth | undefined> {
  const ns = obj.metadata.namespace!;
  const ref = obj.spec.secretRef?.name;
  const proxyRef = obj.spec.proxySecretRef?.name;
  if (!ref && !proxyRef) return undefined;
  try {
    const auth = ref ? authFromSecretData(obj.spec.url, await secretData(ctx, ns, ref), `${ns}/${ref}`) : {};
    if (proxyRef) auth.proxy = proxyFromSecretData(await secretData(ctx, ns, proxyRef), `${ns}/${proxyRef}`);
    return auth;
  } catch (e) {
    if (e instanceof Failure) throw e;
    throw new Failure(CT.FetchFailed, Reason.AuthenticationFailed, (e as Error).message, false, { cause: e });
  }
}

interface Outcome { newArtifact: boolean; subject?: string }

async function produceArtifact(obj: GitRepository, ctx: ReconcileContext<GitRepository>, deps: GitRepositoryDeps): Promise<Outcome> {
  const status = obj.status!;
  const spec = obj.spec;
  if (spec.provider && spec.provider !== "generic") {
    throw new Failure(CT.FetchFailed, Reason.InvalidProviderConfiguration, `provider '${spec.provider}' is not supported by this controller yet; use 'generic' with a secretRef`, true);
  }
  const timeoutSeconds = parseDuration(spec.timeout ?? "60s") / 1000;
  const auth = await credentials(obj, ctx);
  const gitFail = (e: unknown, what: string) => {
    if (e instanceof GitError && e.message.startsWith("semver parse error")) return new Failure(CT.FetchFailed, Reason.GitOperationFailed, `failed to checkout and determine revision: ${e.message}`, true, { cause: e });
    // Flux's checkout reports a range no tag satisfies without naming the remote.
    if (e instanceof GitError && e.message.startsWith("no match found for semver")) return new Failure(CT.FetchFailed, Reason.GitOperationFailed, `failed to checkout and determine revision: ${e.message}`, false, { cause: e });
    // Flux: AuthenticationFailed is for the Secret itself (missing, keys absent or unusable);
    // credentials the server refuses fail the git operation, GitOperationFailed.
    const secretProblem = e instanceof GitConfigError;
    return new Failure(CT.FetchFailed, secretProblem ? Reason.AuthenticationFailed : Reason.GitOperationFailed,
      `failed to checkout and determine revision: ${what} '${redactUserinfo(spec.url)}': ${(e as Error).message}`, false, { cause: e });
  };
  let resolved: ResolvedRef;
  try {
    resolved = await resolveRef(spec.url, spec.ref, { auth, timeoutSeconds });
  } catch (e) { throw gitFail(e, "unable to list remote for"); }

  const includes = await resolveIncludes(obj, ctx, deps);
  const inputsUnchanged = status.artifact && deps.storage.exists(status.artifact)
    && status.artifact.revision === resolved.revision
    && (status.observedIgnore ?? undefined) === (spec.ignore ?? undefined)
    && Boolean(status.observedRecurseSubmodules) === Boolean(spec.recurseSubmodules)
    && deepEqual(status.observedSparseCheckout ?? [], spec.sparseCheckout ?? [])
    && deepEqual(status.observedInclude ?? [], spec.include ?? [])
    && deepEqual((status.includedArtifacts ?? []).map((a) => a.digest), includes.map((i) => i.artifact.digest))
    && (spec.verify?.mode ?? undefined) === (status.sourceVerificationMode ?? undefined);
  if (inputsUnchanged) {
    ctx.log.debug({ revision: resolved.revision }, "artifact up-to-date with remote revision");
    return { newArtifact: false };
  }
  if (status.artifact && status.artifact.revision !== resolved.revision) {
    markTrue(obj, CT.ArtifactOutdated, Reason.NewRevision, `new upstream revision '${resolved.revision}'`);
    markUnknown(obj, CT.Ready, Reason.Progressing, `building artifact: new upstream revision '${resolved.revision}'`);
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-gitrepo-"));
  try {
    const dir = path.join(work, "checkout");
    let head: ResolvedRef;
    try {
      head = await checkout(spec.url, resolved, dir, { auth, timeoutSeconds, sparseCheckout: spec.sparseCheckout, recurseSubmodules: spec.recurseSubmodules });
    } catch (e) { throw gitFail(e, "unable to clone"); }
    if (spec.verify) {
      try {
        const msg = await verifyCheckout(dir, head, spec.verify.mode ?? "HEAD", await verificationKeys(obj, ctx));
        markTrue(obj, CT.SourceVerified, Reason.Succeeded, msg);
      } catch (e) {
        const v = e instanceof VerificationError ? e : new VerificationError(`signature verification failed: ${(e as Error).message}`);
        markFalse(obj, CT.SourceVerified, v.reason, v.message);
        throw new Failure(CT.SourceVerified, v.reason, v.message, v.stalled, { cause: e });
      }
    } else removeCondition(obj, CT.SourceVerified);
    const subject = (await exec("git", ["log", "-1", "--format=%s"], { cwd: dir })).stdout.trim();
    for (const inc of includes) await copyInclude(deps.storage, inc, dir, work);
    const rel = deps.storage.artifactPath(GitRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!, `${head.commit}.tar.gz`);
    let artifact;
    try {
      // A plain checkout is archived from git's object store; included artifacts, sparse
      // checkouts and submodules put files in the tree that the commit does not have.
      if (includes.length === 0 && !spec.sparseCheckout?.length && !spec.recurseSubmodules) {
        const tracked = (await exec("git", ["ls-files", "-z"], { cwd: dir, maxBuffer: 256 * 1024 * 1024 })).stdout.split("\0").filter(Boolean);
        const keep = new Set(filterFiles(tracked, (f) => fs.readFileSync(path.join(dir, f), "utf8"), spec.ignore));
        artifact = await deps.storage.archiveCommit(dir, withEmptiedDirs(tracked.filter((f) => !keep.has(f)), keep), rel, head.revision);
      } else {
        artifact = await deps.storage.archive(dir, selectFiles(dir, spec.ignore), rel, head.revision);
      }
    } catch (e) {
      throw new Failure(CT.StorageOperationFailed, Reason.ArchiveOperationFailed, `unable to archive artifact to storage: ${(e as Error).message}`, false, { cause: e });
    }
    status.artifact = artifact;
    status.includedArtifacts = includes.length ? includes.map((i) => i.artifact) : undefined;
    status.observedIgnore = spec.ignore;
    status.observedRecurseSubmodules = spec.recurseSubmodules;
    status.observedInclude = spec.include;
    status.observedSparseCheckout = spec.sparseCheckout;
    status.sourceVerificationMode = spec.verify?.mode;
    try { deps.storage.garbageCollect(GitRepositoryNames.kind, obj.metadata.namespace!, obj.metadata.name!, artifact.path); } catch (e) {
      ctx.log.warn({ err: e }, "garbage collection of old artifacts failed");
    }
    return { newArtifact: true, subject };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

interface ResolvedInclude { include: GitRepositoryInclude; artifact: NonNullable<NonNullable<GitRepository["status"]>["artifact"]> }

async function resolveIncludes(obj: GitRepository, ctx: ReconcileContext<GitRepository>, deps: GitRepositoryDeps): Promise<ResolvedInclude[]> {
  const out: ResolvedInclude[] = [];
  for (const include of obj.spec.include ?? []) {
    const name = include.repository.name;
    const other = await ctx.client.get<GitRepository>(gitRepositories, { namespace: obj.metadata.namespace!, name }, { signal: ctx.signal });
    if (!other) throw new Failure(CT.IncludeUnavailable, "NotFound", `could not get resource for include '${name}': gitrepositories.source.toolkit.fluxcd.io "${name}" not found`);
    const a = other.status?.artifact;
    if (!a || !deps.storage.exists(a)) throw new Failure(CT.IncludeUnavailable, "NoArtifact", `no artifact available for include '${name}'`);
    out.push({ include, artifact: a });
  }
  return out;
}

async function copyInclude(storage: Storage, inc: ResolvedInclude, checkoutDir: string, work: string): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(work, "include-"));
  await exec("tar", ["-xzf", storage.absolute(inc.artifact.path), "-C", tmp]);
  const from = path.join(tmp, inc.include.fromPath ?? "");
  const to = path.join(checkoutDir, inc.include.toPath ?? inc.include.repository.name);
  if (!path.resolve(to).startsWith(path.resolve(checkoutDir))) throw new Failure(CT.IncludeUnavailable, "InvalidPath", `include toPath '${inc.include.toPath}' leaves the repository`, true);
  if (!fs.existsSync(from)) throw new Failure(CT.IncludeUnavailable, "InvalidPath", `include fromPath '${inc.include.fromPath}' does not exist in '${inc.include.repository.name}'`);
  fs.rmSync(to, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

async function verificationKeys(obj: GitRepository, ctx: ReconcileContext<GitRepository>): Promise<Record<string, string>> {
  const name = obj.spec.verify?.secretRef?.name;
  const ns = obj.metadata.namespace!;
  if (!name) throw new VerificationError("verification needs spec.verify.secretRef with the trusted public keys");
  const secret = await ctx.client.get<{ data?: Record<string, string> } & import("../../runtime/keys").KubeObject>(secrets, { namespace: ns, name }, { signal: ctx.signal });
  if (!secret) throw new VerificationError(`public keys secret error: secret '${ns}/${name}' not found`);
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** Adds the directories left with no kept file, so the archive has no empty directory entries. */
export function withEmptiedDirs(excluded: string[], kept: Set<string>): string[] {
  const keptDirs = new Set<string>();
  for (const f of kept) for (let d = path.posix.dirname(f); d !== "."; d = path.posix.dirname(d)) keptDirs.add(d);
  const dirs = new Set<string>();
  for (const f of excluded) for (let d = path.posix.dirname(f); d !== "."; d = path.posix.dirname(d)) if (!keptDirs.has(d)) dirs.add(d);
  return [...excluded, ...dirs];
}
