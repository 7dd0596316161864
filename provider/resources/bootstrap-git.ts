/**
 * `gitops:index:BootstrapGit`: the deploy-time work of a bootstrap, as one custom resource of the
 * provider plugin (so it runs at `pulumi up`, never at construction, and never at preview).
 *
 * create/update: guards (cluster reachable, no foreign installer, no other cluster's sync at the
 * path) → commit and push the files (first commit in an empty repository, rebase-and-retry on a
 * lost race) → apply CRDs and Namespace, then the rest → credentials Secret → sync objects →
 * wait until the controllers are Available and the GitRepository and Kustomization are Ready at
 * the pushed revision. A failure after the push leaves the resource in state (partial), so the
 * next `pulumi up` continues from there.
 * read: what git and the cluster hold now (drift). delete: uninstall in Flux's order, tolerant of
 * a missing namespace or cluster, then remove the files from git (no empty commit).
 */
import type * as pulumi from "@pulumi/pulumi";
import { Cluster, ClusterError, statusOf, kubeMessage } from "../cluster/client";
import { applyStaged, foreignInstaller, waitDeployments } from "../cluster/install-apply";
import { deadlineAfter } from "../cluster/time";
import { uninstall } from "../cluster/uninstall";
import { NotReadyError, readiness, refName, requestReconcile, waitReady, type FluxObject, type ObjectRef } from "../cluster/wait";
import { scanHostKeys } from "../git/hostkeys";
import { publicKeyOf } from "../git/keys";
import { GitError, GitSession, isAncestor, readFiles, writeFiles, type GitTarget } from "../git/session";
import type { KubeManifest } from "../manifests/objects";
import { SyncFile } from "../manifests/sync";
import { containsUnknown, UnknownValue, type Failure } from "../schema/validate";
import type { ResourceHandler } from "./handler";
import { checkBootstrap, describeSync, hasCredentials, objectsFromFiles, planBootstrap, type BootstrapInputs, type BootstrapPlan } from "./bootstrap-plan";
import { compact, PartialError, same, type Props } from "./props";
import { debug } from "../log";

/** What the resource keeps in state besides its inputs. */
export interface BootstrapState extends BootstrapInputs {
  files: Record<string, string>;
  revision: string;
  appliedRevision: string;
  publicKey?: string;
  knownHosts?: string;
  namespace: string;
  /** Why the last read thinks a repair is due (empty: none). */
  drift?: string[];
}

const inputKeys = [
  "url", "syncUrl", "branch", "path", "authorName", "authorEmail", "commitMessageAppendix", "ssh", "http",
  "version", "namespace", "components", "componentsExtra", "registry", "imagePullSecret", "clusterDomain", "networkPolicy",
  "watchAllNamespaces", "logLevel", "tolerationKeys", "customisation", "multiTenancy", "shards", "interval", "secretName", "disableSecretCreation",
  "recurseSubmodules", "sparseCheckout", "registryCredentials", "kubeconfig", "context", "timeout", "deleteGitManifests",
  "keepNamespace", "cascade", "force", "wait", "files",
] as const;

/** Inputs whose change alone does not need git or the cluster to change. */
const destroyOnly = new Set(["deleteGitManifests", "keepNamespace", "cascade", "force", "timeout"]);

function b64(s: string): string {
  return Buffer.from(s).toString("base64");
}

function gitTarget(i: BootstrapInputs, key?: string, knownHosts?: string): GitTarget {
  return {
    url: i.url,
    branch: i.branch ?? "main",
    author: { name: i.authorName, email: i.authorEmail },
    credentials: {
      ssh: i.url.startsWith("ssh://") ? { privateKey: key, knownHosts, username: i.ssh?.username } : undefined,
      http: i.http,
    },
  };
}

function message(subject: string, i: BootstrapInputs): string {
  return i.commitMessageAppendix ? `${subject}\n\n${i.commitMessageAppendix}` : subject;
}

/** Network failures that mean "no cluster there" (as opposed to a cluster answering with an error). */
function clusterGone(e: unknown): boolean {
  if (statusOf(e) !== undefined) return false;
  return /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|connect ETIMEDOUT|cannot reach the cluster/i.test(`${(e as Error).message} ${kubeMessage(e)}`);
}

export class BootstrapGitHandler implements ResourceHandler {
  readonly secretKeys = ["ssh", "http", "kubeconfig", "registryCredentials"];

  async check(_urn: string, _olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }> {
    const i = news as unknown as BootstrapInputs;
    // Unknown values (outputs of resources not created yet): check and render what is known.
    const unknownKeys = new Set(Object.entries(i).filter(([, v]) => containsUnknown(v)).map(([k]) => k));
    const known = Object.fromEntries(Object.entries(i).filter(([k]) => !unknownKeys.has(k))) as unknown as BootstrapInputs;
    if (unknownKeys.has("url")) ["ssh", "http"].forEach((k) => unknownKeys.add(k));
    const failures = checkBootstrap({ ...known, url: known.url ?? "https://unknown.invalid/" }).filter((f) => !unknownKeys.has(f.property.split(/[.[]/)[0]!));
    if (failures.length > 0) return { inputs: news, failures };
    const renderKeys = ["url", "syncUrl", "branch", "path", "interval", "secretName", "disableSecretCreation", "recurseSubmodules", "sparseCheckout", "ssh", "http",
      "version", "namespace", "components", "componentsExtra", "registry", "imagePullSecret", "clusterDomain", "networkPolicy", "watchAllNamespaces", "logLevel", "tolerationKeys", "customisation", "multiTenancy", "shards"];
    if (renderKeys.some((k) => unknownKeys.has(k))) return { inputs: { ...news, files: UnknownValue }, failures: [] };
    return { inputs: { ...news, files: planBootstrap(i).files }, failures: [] };
  }

  async diff(_id: string, _urn: string, olds: Props, news: Props): Promise<pulumi.provider.DiffResult> {
    const o = olds as unknown as BootstrapState;
    const n = news as unknown as BootstrapInputs;
    const replaces: string[] = [];
    if ((o.namespace ?? "flux-system") !== (n.namespace ?? "flux-system")) replaces.push("namespace");
    // `namespace` is also an output (defaulted): compared above, with the default.
    const changed = inputKeys.filter((k) => k !== "namespace" && !same(o[k], n[k]));
    const effective = changed.filter((k) => !destroyOnly.has(k));
    const reasons = [...(o.drift ?? [])];
    if (!o.appliedRevision && n.wait !== false) reasons.push("the last apply did not reach the sync");
    if (reasons.length === 0 && effective.length === 0 && !containsUnknown(n)) reasons.push(...(await this.liveDrift(o)));
    const drift = reasons.length > 0;
    debug(`BootstrapGit ${o.namespace} diff: changed [${changed.join(", ")}] replaces [${replaces.join(", ")}] drift [${reasons.join("; ")}]`);
    return {
      changes: changed.length > 0 || drift || replaces.length > 0,
      replaces,
      deleteBeforeReplace: replaces.length > 0,
    };
  }

  /** Drift in git (files changed or gone) and in the cluster (root objects missing or failing). Errors count as no drift: preview must not fail on a flaky network. */
  private async liveDrift(s: BootstrapState): Promise<string[]> {
    try {
      return await this.observe(s);
    } catch {
      return [];
    }
  }

  private async observe(s: BootstrapState): Promise<string[]> {
    const drift: string[] = [];
    const target = gitTarget(s, s.ssh?.privateKey, s.ssh?.knownHosts ?? s.knownHosts);
    const paths = Object.keys(s.files ?? {});
    const { files } = await readFiles(target, paths);
    for (const p of paths) if (files[p] !== s.files[p]) drift.push(files[p] === null ? `${p} is missing in git` : `${p} was changed in git`);
    const cluster = new Cluster(s);
    const ns = s.namespace;
    // What a repair can restore: the root objects, the credentials Secret, the controllers.
    // A root object that is not Ready is not drift: its cause (usually content under the path)
    // is not the bootstrap's to fix, and treating it so would make every preview an update.
    const probes: [string, string, string][] = [
      ["source.toolkit.fluxcd.io/v1", "GitRepository", ns],
      ["kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns],
      ["apps/v1", "Deployment", "source-controller"],
      ["apps/v1", "Deployment", "kustomize-controller"],
    ];
    if (hasCredentials(s) && !s.disableSecretCreation) probes.push(["v1", "Secret", s.secretName ?? ns]);
    for (const [apiVersion, kind, name] of probes) {
      if (!(await cluster.get(apiVersion, kind, name, ns))) drift.push(`${kind} ${ns}/${name} is missing in the cluster`);
    }
    cluster.close();
    return drift;
  }

  async create(_urn: string, inputs: Props): Promise<{ id: string; outs: Props }> {
    const i = inputs as unknown as BootstrapInputs;
    const outs = await this.reconcile(i, undefined);
    return { id: outs.namespace, outs: outs as unknown as Props };
  }

  async update(_id: string, _urn: string, olds: Props, news: Props): Promise<{ outs: Props }> {
    const outs = await this.reconcile(news as unknown as BootstrapInputs, olds as unknown as BootstrapState);
    return { outs: outs as unknown as Props };
  }

  private async reconcile(i: BootstrapInputs, old: BootstrapState | undefined): Promise<BootstrapState> {
    const failures = checkBootstrap(i);
    if (failures.length > 0) throw new Error(failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
    const plan = planBootstrap(i);
    const deadline = deadlineAfter(plan.timeoutMs);
    const creating = old === undefined;

    // 1. Guards, before anything is written anywhere.
    const cluster = new Cluster(i);
    await cluster.ping();
    if (creating && !i.force) {
      const foreign = await foreignInstaller(cluster, plan.rendered.objects);
      if (foreign) throw new ClusterError(`${foreign}: another tool installed Flux here; set force: true to take it over`);
      const ks = await cluster.get<{ spec?: { path?: string } }>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", plan.namespace, plan.namespace);
      const want = plan.sync.path ? `./${plan.sync.path}` : "./";
      const have = ks?.spec?.path;
      if (have !== undefined && have.replace(/\/$/, "") !== want.replace(/\/$/, "") && !(have === "" && want === "./")) {
        throw new ClusterError(`the cluster is already synced from path '${have}' by Kustomization ${plan.namespace}/${plan.namespace}; bootstrapping path '${want}' would overwrite it. Use the same path, another namespace, or force: true`);
      }
    }

    // 2. Credentials for git and for the cluster Secret (a generated key comes from the SshKeyPair resource).
    const privateKey = i.ssh?.privateKey;
    const isSsh = i.url.startsWith("ssh://");
    let knownHosts = i.ssh?.knownHosts;
    if (isSsh && !knownHosts) {
      const sameHost = old?.knownHosts && old.url && new URL(old.url).host === new URL(i.url).host;
      knownHosts = sameHost ? old!.knownHosts : await scanHostKeys(i.url);
    }
    const publicKey = privateKey ? publicKeyOf(privateKey, `gitops-${plan.namespace}`) : undefined;
    const target = gitTarget(i, privateKey, knownHosts);

    // 3. Git: the files, plus removal of files an earlier version wrote elsewhere (path change).
    const changes: Record<string, string | null> = { ...plan.files };
    for (const p of Object.keys(old?.files ?? {})) if (!(p in changes)) changes[p] = null;
    const subject = creating ? `Add Flux ${plan.rendered.options.version} component and sync manifests` : "Update Flux manifests";
    const written = await writeFiles(target, changes, message(subject, i), {
      guard: async (s: GitSession) => {
        if (i.force || (!creating && same(Object.keys(old!.files ?? {}).sort(), Object.keys(plan.files).sort()))) return;
        const syncPath = `${plan.dir}/${SyncFile}`;
        const existing = (await s.read([syncPath]))[syncPath];
        const ours = plan.files[syncPath]!;
        if (existing !== null && existing !== undefined && describeSync(existing) !== describeSync(ours)) {
          throw new GitError("other", `${syncPath} already holds the sync of another cluster (${describeSync(existing)}); choose another path (or namespace), or set force: true to overwrite it. Nothing was pushed`);
        }
      },
    });

    const state: BootstrapState = compact({
      ...i,
      files: plan.files,
      revision: written.revision,
      appliedRevision: "",
      publicKey,
      knownHosts: isSsh ? knownHosts : undefined,
      namespace: plan.namespace,
      drift: [],
    });

    // 4. Cluster: install, Secret, sync, wait. Failures from here keep the resource in state.
    try {
      state.appliedRevision = await this.applyToCluster(cluster, i, plan, state, target, deadline);
      return state;
    } catch (e) {
      throw new PartialError(`${(e as Error).message} (the files are pushed at ${written.revision}; fix the cause and run pulumi up again)`, plan.namespace, state as unknown as Props);
    }
  }

  private async applyToCluster(cluster: Cluster, i: BootstrapInputs, plan: BootstrapPlan, s: BootstrapState, target: GitTarget, deadline: number): Promise<string> {
    const { install, sync } = objectsFromFiles(plan.files, plan.dir);
    await applyStaged(cluster, install, deadline);
    for (const secret of this.secrets(i, plan, s)) await cluster.apply(secret);
    for (const o of sync) await cluster.apply(o);
    if (i.wait === false) return "";
    await waitDeployments(cluster, install.filter((o) => o.kind === "Deployment"), deadline);
    return this.waitSynced(cluster, plan, s.revision, target, deadline);
  }

  private secrets(i: BootstrapInputs, plan: BootstrapPlan, s: BootstrapState): KubeManifest[] {
    const out: KubeManifest[] = [];
    if (!i.disableSecretCreation && hasCredentials(i)) {
      const data: Record<string, string> = {};
      const key = i.ssh?.privateKey;
      if (i.url.startsWith("ssh://")) {
        if (key) data.identity = b64(key);
        if (s.publicKey) data["identity.pub"] = b64(s.publicKey);
        if (s.knownHosts) data.known_hosts = b64(s.knownHosts);
      } else {
        if (i.http?.bearerToken) data.bearerToken = b64(i.http.bearerToken);
        else if (i.http?.password !== undefined || i.http?.username !== undefined) {
          data.username = b64(i.http.username ?? "git");
          data.password = b64(i.http.password ?? "");
        }
        if (i.http?.certificateAuthority) data["ca.crt"] = b64(i.http.certificateAuthority);
      }
      out.push({ apiVersion: "v1", kind: "Secret", metadata: { name: plan.sync.secretName!, namespace: plan.namespace }, type: "Opaque", data });
    }
    if (i.registryCredentials && i.imagePullSecret) {
      const [user, ...rest] = i.registryCredentials.split(":");
      const password = rest.join(":");
      const host = plan.rendered.options.registry.split("/")[0]!;
      const auth = { auths: { [host]: { username: user, password, auth: b64(`${user}:${password}`) } } };
      out.push({
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: i.imagePullSecret, namespace: plan.namespace },
        type: "kubernetes.io/dockerconfigjson",
        data: { ".dockerconfigjson": b64(JSON.stringify(auth)) },
      });
    }
    return out;
  }

  /**
   * Waits for the GitRepository to be Ready at the pushed commit, or at a later one that
   * contains it (another writer may have pushed on top), then for the Kustomization to have
   * applied that same revision. Returns it (`<branch>@sha1:<sha>`).
   */
  private async waitSynced(cluster: Cluster, plan: BootstrapPlan, revision: string, target: GitTarget, deadline: number): Promise<string> {
    const ns = plan.namespace;
    const repoRef: ObjectRef = { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: ns, namespace: ns };
    const ksRef: ObjectRef = { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: ns, namespace: ns };
    const prefix = `${plan.branch}@sha1:`;
    await requestReconcile(cluster, repoRef).catch(() => undefined);
    let accepted: string | undefined;
    const checked = new Map<string, boolean>();
    let lastNudge = Date.now();
    for (;;) {
      const repo = await cluster.get<FluxObject>(repoRef.apiVersion, repoRef.kind, ns, ns);
      const r = readiness(repo);
      if (r.done) {
        const seen = repo!.status?.artifact?.revision ?? "";
        const sha = seen.startsWith(prefix) ? seen.slice(prefix.length) : "";
        if (sha && !checked.has(sha)) checked.set(sha, await isAncestor(target, revision, sha).catch(() => false));
        if (sha && checked.get(sha)) {
          accepted = seen;
          break;
        }
      } else if (r.terminal) throw new NotReadyError(`${refName(repoRef)} ${r.why}`);
      if (Date.now() - lastNudge > 5000) {
        lastNudge = Date.now();
        await requestReconcile(cluster, repoRef).catch(() => undefined);
      }
      if (Date.now() > deadline) {
        throw new NotReadyError(`${refName(repoRef)} did not fetch ${prefix}${revision}: ${r.done ? `it is at ${repo?.status?.artifact?.revision}` : r.why}`);
      }
      await new Promise((res) => setTimeout(res, 250));
    }
    await requestReconcile(cluster, ksRef).catch(() => undefined);
    await waitReady(cluster, ksRef, { deadline, revision: accepted, nudgeEveryMs: 5000 });
    return accepted;
  }

  async read(id: string, _urn: string, props: Props): Promise<{ id?: string; props?: Props; inputs?: Props }> {
    const s = props as unknown as BootstrapState;
    if (!s.url) {
      throw new Error(`importing a BootstrapGit by id is not supported: declare the Bootstrap with the same inputs instead; an existing installation with the same files is adopted on create (id ${id})`);
    }
    const target = gitTarget(s, s.ssh?.privateKey, s.ssh?.knownHosts ?? s.knownHosts);
    const paths = Object.keys(s.files ?? {});
    const { files } = await readFiles(target, paths);
    const actual: Record<string, string> = {};
    for (const p of paths) if (files[p] !== null && files[p] !== undefined) actual[p] = files[p]!;
    const drift = await this.observe(s).catch((e) => [`cannot check the cluster: ${(e as Error).message}`]);
    return { id, props: { ...props, files: actual, drift, appliedRevision: drift.some((d) => d.includes("cluster")) ? "" : s.appliedRevision } };
  }

  async delete(_id: string, _urn: string, props: Props): Promise<void> {
    const s = props as unknown as BootstrapState;
    const problems: string[] = [];
    let cluster: Cluster | undefined;
    try {
      cluster = new Cluster(s);
      await cluster.ping();
    } catch (e) {
      if (!clusterGone(e)) throw e;
      cluster = undefined; // the cluster is gone: nothing to uninstall there
    }
    if (cluster) {
      const deadline = deadlineAfter(planTimeout(s));
      problems.push(...(await uninstall(cluster, { namespace: s.namespace, keepNamespace: s.keepNamespace, cascade: s.cascade, deadline })));
    }
    if (s.deleteGitManifests ?? true) {
      const target = gitTarget(s, s.ssh?.privateKey, s.ssh?.knownHosts ?? s.knownHosts);
      const changes = Object.fromEntries(Object.keys(s.files ?? {}).map((p) => [p, null]));
      try {
        await writeFiles(target, changes, message("Uninstall Flux", s));
      } catch (e) {
        // An empty repository or a branch that is gone has nothing to remove.
        if (!(e instanceof GitError && /nothing to write/.test(e.message))) problems.push(`git: ${(e as Error).message}`);
      }
    }
    if (problems.length > 0) throw new Error(`uninstall finished with problems (run pulumi destroy again to retry): ${problems.join("; ")}`);
  }
}

function planTimeout(s: BootstrapState): number {
  try {
    return planBootstrap(s).timeoutMs;
  } catch {
    return 5 * 60_000;
  }
}

