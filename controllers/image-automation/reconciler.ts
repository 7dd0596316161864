// ImageUpdateAutomation: list the namespace's ImagePolicies (policySelector) that have a
// latest image, clone the GitRepository's checkout ref, rewrite the setter-marked fields
// under spec.update.path, and commit and push when anything changed. A push the remote
// rejects because it moved on is retried from a fresh clone (the setters re-applied on top
// of the new tip). A run is skipped when neither the policies nor the remote revision
// changed since the last one, as Flux does. Reasons and messages follow Flux's controller.
import * as fs from "node:fs";
import * as path from "node:path";
import { ConditionType as CT, FieldManager, Reason } from "../api/meta";
import { ImagePolicy, ImagePolicyNames } from "../api/image/v1/image-policy";
import { AutomationReason, ImageUpdateAutomation, ImageUpdateAutomationNames } from "../api/image/v1/image-update-automation";
import { GitRepository, GitRepositoryNames } from "../api/source/v1/git-repository";
import { jittered } from "../runtime/backoff";
import { isReady, markFalse, markReconciling, markStalled, markTrue, removeCondition } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { parseDuration } from "../runtime/duration";
import { KubeObject, ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { Result } from "../runtime/result";
import { GitAuth, GitConfigError, authFromSecretData, proxyFromSecretData } from "../source/git/auth";
import { GitError, GitRef, resolveRef } from "../source/git/client";
import { FileChange, LatestImage, ObjectId, SetterError, applySettersToTree, setterValues } from "./setters";
import { TemplateExecError, TemplateParseError, executeTemplate, goStruct, parseTemplate } from "./template";
import { PushRejected, Signing, SigningError, Workspace } from "./workspace";

export const imageUpdateAutomations = { group: ImageUpdateAutomationNames.group, version: ImageUpdateAutomationNames.version, plural: ImageUpdateAutomationNames.plural, kind: ImageUpdateAutomationNames.kind };
export const imagePoliciesRes = { group: ImagePolicyNames.group, version: ImagePolicyNames.version, plural: ImagePolicyNames.plural, kind: ImagePolicyNames.kind };
export const gitRepositoriesRes = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

export const DefaultMessageTemplate = "Update from image update automation";
const READY = "repository up-to-date";
/** How often a rejected push is retried from a fresh clone within one run. */
const PUSH_ATTEMPTS = 3;

export interface AutomationDeps { noCrossNamespaceRefs?: boolean }

type Ctx = ReconcileContext<ImageUpdateAutomation>;
type Obj = ImageUpdateAutomation & { status?: Record<string, unknown> };

/** A failed step: Ready=False with `reason`; stalled ones wait for a spec change. */
class Failure extends Error {
  constructor(readonly reason: string, message: string, readonly stalled = false) { super(message); }
}

export function reconcileImageUpdateAutomation(deps: AutomationDeps) {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx as never as ReconcileContext<Obj>, {
      fieldManager: FieldManager.ImageAutomation,
      reconcile: (obj) => reconcileAutomation(obj as ImageUpdateAutomation, ctx, deps),
    });
}

/** metav1.LabelSelector as a selector string for the API server. */
export function selectorString(sel: ImageUpdateAutomation["spec"]["policySelector"]): string {
  if (!sel) return "";
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case "In": case "NotIn":
        if (values.length === 0) throw new Failure(AutomationReason.InvalidPolicySelector, `invalid policy selector: values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty`, true);
        parts.push(`${e.key} ${e.operator.toLowerCase()} (${values.join(",")})`); break;
      case "Exists": case "DoesNotExist":
        if (values.length > 0) throw new Failure(AutomationReason.InvalidPolicySelector, `invalid policy selector: values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`, true);
        parts.push(e.operator === "Exists" ? e.key : `!${e.key}`); break;
      default:
        throw new Failure(AutomationReason.InvalidPolicySelector, `invalid policy selector: "${e.operator}" is not a valid label selector operator`, true);
    }
  }
  return parts.join(",");
}

async function secretData(ctx: Ctx, ns: string, name: string): Promise<Record<string, string> | undefined> {
  const s = await ctx.client.get<KubeObject & { data?: Record<string, string> }>(secrets, { namespace: ns, name }, { signal: ctx.signal });
  if (!s) return undefined;
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

async function repoAuth(repo: GitRepository, ctx: Ctx): Promise<GitAuth | undefined> {
  const ns = repo.metadata.namespace!;
  const fail = (m: string) => new Failure(AutomationReason.SourceManagerFailed, `failed configuring source manager: ${m}`);
  if (repo.spec.provider && repo.spec.provider !== "generic") throw fail(`provider '${repo.spec.provider}' of the GitRepository is not supported by this controller yet; use 'generic' with a secretRef`);
  let auth: GitAuth | undefined;
  try {
    if (repo.spec.secretRef) {
      const data = await secretData(ctx, ns, repo.spec.secretRef.name);
      if (!data) throw fail(`failed to get auth secret '${ns}/${repo.spec.secretRef.name}': secrets "${repo.spec.secretRef.name}" not found`);
      auth = authFromSecretData(repo.spec.url, data, `${ns}/${repo.spec.secretRef.name}`);
    }
    if (repo.spec.proxySecretRef) {
      const data = await secretData(ctx, ns, repo.spec.proxySecretRef.name);
      if (!data) throw fail(`failed to get proxy secret '${ns}/${repo.spec.proxySecretRef.name}': secrets "${repo.spec.proxySecretRef.name}" not found`);
      (auth ??= {}).proxy = proxyFromSecretData(data, `${ns}/${repo.spec.proxySecretRef.name}`);
    }
  } catch (e) {
    if (e instanceof GitConfigError) throw fail(`failed to configure authentication options: ${e.message}`);
    throw e;
  }
  return auth;
}

async function signingKey(obj: ImageUpdateAutomation, ctx: Ctx): Promise<Signing | undefined> {
  const sk = obj.spec.git?.commit.signingKey;
  if (!sk) return undefined;
  const ns = obj.metadata.namespace!;
  const data = await secretData(ctx, ns, sk.secretRef.name);
  const fail = (m: string) => new Failure(AutomationReason.GitOperationFailed, `failed to update source: ${m}`);
  if (!data) throw fail(`could not find signing key secret '${ns}/${sk.secretRef.name}'`);
  if ((sk.type ?? "gpg") === "ssh") {
    if (!data.identity) throw fail(`signing key secret '${ns}/${sk.secretRef.name}' has no 'identity' field`);
    return { type: "ssh", key: data.identity, passphrase: data.password };
  }
  if (!data["git.asc"]) throw fail(`signing key secret '${ns}/${sk.secretRef.name}' has no 'git.asc' field`);
  return { type: "gpg", key: data["git.asc"], passphrase: data.passphrase };
}

/** `.Changed` of Flux's template data: FileChanges with Changes() and Objects() methods. */
function templateData(obj: ImageUpdateAutomation, changes: FileChange[]): unknown {
  const ids = new Map<string, ObjectId>();
  const id = (o: ObjectId) => {
    const k = JSON.stringify(o);
    if (!ids.has(k)) ids.set(k, goStruct(["APIVersion", "Kind", "Name", "Namespace"], { ...o }));
    return ids.get(k)!;
  };
  const fileChanges = new Map<string, Map<ObjectId, unknown[]>>();
  for (const fc of changes) {
    const perFile = fileChanges.get(fc.file) ?? new Map<ObjectId, unknown[]>();
    fileChanges.set(fc.file, perFile);
    const oid = id(fc.object);
    perFile.set(oid, [...(perFile.get(oid) ?? []), ...fc.changes.map((c) => goStruct(["OldValue", "NewValue", "Setter"], { ...c }))]);
  }
  const changed = goStruct(["FileChanges"], {
    FileChanges: fileChanges,
    Changes() {
      const seen = new Set<string>();
      const out: unknown[] = [];
      for (const perFile of fileChanges.values()) for (const cs of perFile.values()) for (const c of cs) {
        const k = JSON.stringify(c);
        if (!seen.has(k)) { seen.add(k); out.push(c); }
      }
      return out;
    },
    Objects() {
      const out = new Map<ObjectId, unknown[]>();
      for (const perFile of fileChanges.values()) for (const [o, cs] of perFile) out.set(o, [...(out.get(o) ?? []), ...cs]);
      return out;
    },
  });
  const automation = goStruct(["Namespace", "Name"], { Namespace: obj.metadata.namespace!, Name: obj.metadata.name!, String: () => `${obj.metadata.namespace}/${obj.metadata.name}` });
  return goStruct(["AutomationObject", "Changed", "Values"], {
    AutomationObject: automation, Changed: changed, Values: new Map(Object.entries(obj.spec.git?.commit.messageTemplateValues ?? {})),
  });
}

function commitMessage(obj: ImageUpdateAutomation, changes: FileChange[]): string {
  const src = obj.spec.git?.commit.messageTemplate || DefaultMessageTemplate;
  let t;
  try { t = parseTemplate(src); } catch (e) {
    throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: unable to create commit message template from spec: ${(e as Error).message}`);
  }
  try { return executeTemplate(t, templateData(obj, changes)); } catch (e) {
    if (!(e instanceof TemplateExecError)) throw e;
    const removed = /can't evaluate field (Updated|ImageResult) /.exec(e.message);
    if (removed?.[1] === "Updated") throw new Failure(AutomationReason.RemovedTemplateField, "template uses removed '.Updated' field. Please use '.Changed' instead. See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template", true);
    if (removed) throw new Failure(AutomationReason.RemovedTemplateField, "template uses removed '.Changed.ImageResult' field. Please use '.Changed.FileChanges' or '.Changed.Objects' instead. See: https://fluxcd.io/flux/components/image/imageupdateautomations/#message-template", true);
    throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: failed to run template from spec: ${e.message}`);
  }
}

const sameImages = (a: Record<string, LatestImage> | undefined, b: Record<string, LatestImage>) =>
  !!a && Object.keys(a).length === Object.keys(b).length &&
  Object.entries(b).every(([k, v]) => a[k] && a[k].name === v.name && a[k].tag === v.tag && (a[k].digest ?? "") === (v.digest ?? ""));

interface PushOutcome { commit: string; branch: string; message: string; refspec?: string }

async function reconcileAutomation(obj: ImageUpdateAutomation, ctx: Ctx, deps: AutomationDeps): Promise<Result> {
  const status = (obj.status ??= {});
  const wasReady = isReady(obj);
  const interval = parseDuration(obj.spec.interval);
  if (status.observedGeneration !== obj.metadata.generation) {
    markReconciling(obj, Reason.Progressing, `processing object: new generation ${status.observedGeneration ?? -1} -> ${obj.metadata.generation}`);
  }
  let pushed: PushOutcome | undefined;
  let synced = true;
  try {
    ({ pushed, synced } = await run(obj, ctx, deps));
  } catch (e) {
    const f = e instanceof Failure ? e : e instanceof GitError ? new Failure(AutomationReason.GitOperationFailed, e.message) : undefined;
    if (!f) throw e;
    markFalse(obj, CT.Ready, f.reason, f.message);
    void ctx.events.warning(obj, f.reason, f.message);
    if (f.stalled) {
      markStalled(obj, f.reason, f.message);
      removeCondition(obj, CT.Reconciling);
      return Result.done();
    }
    removeCondition(obj, CT.Stalled);
    markReconciling(obj, Reason.ProgressingWithRetry, f.message);
    return Result.retry(f);
  }
  status.lastAutomationRunTime = new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
  removeCondition(obj, CT.Stalled);
  removeCondition(obj, CT.Reconciling);
  markTrue(obj, CT.Ready, Reason.Succeeded, READY);
  if (pushed) {
    const short = pushed.commit.slice(0, 7);
    const summary = `pushed commit '${short}' to branch '${pushed.branch}'${pushed.refspec ? ` and refspecs '${pushed.refspec}'` : ""}${pushed.message ? `\n${pushed.message}` : ""}`;
    void ctx.events.normal(obj, Reason.Succeeded, summary);
  } else if (!wasReady) {
    void ctx.events.normal(obj, Reason.Succeeded, READY);
  } else {
    ctx.log.debug({ synced }, synced ? READY : "no change since last reconciliation");
  }
  return Result.requeueAfter(jittered(interval, ctx.intervalJitter));
}

async function run(obj: ImageUpdateAutomation, ctx: Ctx, deps: AutomationDeps): Promise<{ pushed?: PushOutcome; synced: boolean }> {
  const status = obj.status!;
  const ns = obj.metadata.namespace!;
  const spec = obj.spec;

  // Policies first: an invalid selector needs a spec change.
  const selector = selectorString(spec.policySelector);
  let policies: ImagePolicy[];
  try {
    policies = (await ctx.client.list<ImagePolicy>(imagePoliciesRes, { namespace: ns, labelSelector: selector || undefined, signal: ctx.signal })).items;
  } catch (e) {
    if ((e as { code?: number; statusCode?: number }).code === 400 || (e as { statusCode?: number }).statusCode === 400 || /BadRequest|unable to parse requirement|invalid label/i.test((e as Error).message)) {
      throw new Failure(AutomationReason.InvalidPolicySelector, `invalid policy selector: ${(e as Error).message}`, true);
    }
    throw e;
  }
  const observed: Record<string, LatestImage> = {};
  for (const p of policies) {
    const r = p.status?.latestRef;
    if (r) observed[p.metadata.name!] = { name: r.name, tag: r.tag, ...(r.digest ? { digest: r.digest } : {}) };
  }

  if (spec.sourceRef.kind && spec.sourceRef.kind !== "GitRepository") {
    throw new Failure(AutomationReason.InvalidSourceConfiguration, `source kind '${spec.sourceRef.kind}' not supported: invalid source configuration`, true);
  }
  if (!spec.git) throw new Failure(AutomationReason.InvalidSourceConfiguration, "source kind 'GitRepository' necessitates field .spec.git: invalid source configuration", true);
  const srcNs = spec.sourceRef.namespace || ns;
  if (deps.noCrossNamespaceRefs && srcNs !== ns) {
    throw new Failure("AccessDenied", `can't access 'GitRepository/${srcNs}/${spec.sourceRef.name}', cross-namespace references have been blocked`, true);
  }
  const repo = await ctx.client.get<GitRepository>(gitRepositoriesRes, { namespace: srcNs, name: spec.sourceRef.name }, { signal: ctx.signal });
  if (!repo) {
    throw new Failure(AutomationReason.SourceManagerFailed, `failed configuring source manager: referenced git repository does not exist: gitrepositories.source.toolkit.fluxcd.io "${spec.sourceRef.name}" not found`);
  }
  const checkoutRef: GitRef = spec.git.checkout?.ref ?? repo.spec.ref ?? { branch: "master" };
  const checkoutBranch = checkoutRef.commit || checkoutRef.name || checkoutRef.semver || checkoutRef.tag ? (checkoutRef.commit ? checkoutRef.branch : undefined) : (checkoutRef.branch ?? "master");
  const pushBranch = spec.git.push?.branch || checkoutBranch;
  if (!pushBranch) {
    throw new Failure(AutomationReason.InvalidSourceConfiguration, "push spec not provided, and cannot be inferred from .spec.git.checkout.ref or GitRepository .spec.ref: invalid source configuration", true);
  }
  const switchBranch = pushBranch !== checkoutBranch;
  const refspec = spec.git.push?.refspec;
  // Validate the template before any git work: a broken one fails every run that commits.
  if (spec.git.commit.messageTemplate) {
    try { parseTemplate(spec.git.commit.messageTemplate); } catch (e) {
      if (e instanceof TemplateParseError) throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: unable to create commit message template from spec: ${e.message}`);
      throw e;
    }
  }
  const auth = await repoAuth(repo, ctx);
  const signing = await signingKey(obj, ctx);
  const timeoutSeconds = parseDuration(repo.spec.timeout ?? "60s") / 1000;
  const updatePath = spec.update?.path ?? "";
  if ((spec.update?.strategy ?? "Setters") !== "Setters") throw new Failure(AutomationReason.InvalidUpdateStrategy, `update strategy '${spec.update?.strategy}' not supported`, true);

  // Nothing new since the last run (same policies, same remote tip): skip the clone.
  const policiesChanged = !sameImages(status.observedPolicies as Record<string, LatestImage> | undefined, observed);
  if (!policiesChanged && !switchBranch && !refspec && status.observedSourceRevision) {
    let tip: string | undefined;
    try { tip = (await resolveRef(repo.spec.url, checkoutRef, { auth, timeoutSeconds })).revision; } catch (e) {
      if (e instanceof GitError) throw new Failure(AutomationReason.GitOperationFailed, `failed to checkout source: unable to clone '${repo.spec.url}': ${e.message}`);
      throw e;
    }
    if (tip === status.observedSourceRevision) return { synced: false };
  }

  for (let attempt = 1; ; attempt++) {
    let ws: Workspace;
    try { ws = await Workspace.clone(repo.spec.url, checkoutRef, pushBranch, auth, timeoutSeconds); } catch (e) {
      if (e instanceof GitError) throw new Failure(AutomationReason.GitOperationFailed, `failed to checkout source: unable to clone '${repo.spec.url}': ${e.message}`);
      throw e;
    }
    try {
      const dir = path.resolve(ws.dir, updatePath.replace(/^\/+/, ""));
      if (dir !== ws.dir && !dir.startsWith(ws.dir + path.sep)) throw new Failure(AutomationReason.UpdateFailed, `failed to apply policies: spec.update.path '${updatePath}' points outside the repository`, true);
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Failure(AutomationReason.UpdateFailed, `failed to apply policies: spec.update.path '${updatePath}' is not a directory in the repository (at ${ws.head.revision})`);
      let changes: FileChange[];
      try { changes = applySettersToTree(dir, dir, setterValues(ns, new Map(Object.entries(observed)))); } catch (e) {
        if (e instanceof SetterError) throw new Failure(AutomationReason.UpdateFailed, `failed to apply policies: ${e.message}`);
        throw e;
      }
      const checkoutRevision = ws.head.revision;
      if (changes.length === 0) {
        status.observedSourceRevision = checkoutRevision;
        status.observedPolicies = observed;
        return { synced: true };
      }
      const message = commitMessage(obj, changes);
      const author = spec.git.commit.author;
      let commit: string | undefined;
      // git refuses an empty author name (go-git, Flux's, does not): the email stands in.
      try { commit = await ws.commit({ authorName: author.name || author.email, authorEmail: author.email, message, signing }); } catch (e) {
        if (e instanceof SigningError) throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: failed to sign commit: ${e.message}`);
        if (e instanceof GitError) throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: failed to commit: ${e.message}`);
        throw e;
      }
      if (!commit) {
        status.observedSourceRevision = checkoutRevision;
        status.observedPolicies = observed;
        return { synced: true };
      }
      try {
        await ws.push(pushBranch, { force: switchBranch, refspec, options: spec.git.push?.options });
      } catch (e) {
        if (e instanceof PushRejected && attempt < PUSH_ATTEMPTS) {
          ctx.log.info({ attempt, error: e.message }, "push rejected, the remote moved on: applying the updates again on top of it");
          continue;
        }
        if (e instanceof GitError) throw new Failure(AutomationReason.GitOperationFailed, `failed to update source: failed to push to remote: ${e.message}`);
        throw e;
      }
      status.observedSourceRevision = switchBranch ? checkoutRevision : `${pushBranch}@sha1:${commit}`;
      status.observedPolicies = observed;
      status.lastPushCommit = commit;
      status.lastPushTime = new Date(ctx.clock.now()).toISOString().replace(/\.\d+Z$/, "Z");
      return { pushed: { commit, branch: pushBranch, message, refspec }, synced: true };
    } finally {
      ws.close();
    }
  }
}
