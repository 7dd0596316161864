// Git commit statuses: the event's revision (metadata `revision`, e.g. `main@sha1:<sha>`) gets a
// status whose ID is `<kind>/<name>/<first segment of the Provider UID>` (lowercase, as Flux
// derives it). State: an `error` event fails, `info` succeeds, a Progressing reason is pending.
// Events without a revision are not sent (there is no commit to mark).
//   github          POST /repos/<o>/<r>/statuses/<sha> {state, context, description}       (api.github.com or <host>/api/v3)
//   gitlab          POST /api/v4/projects/<url-encoded path>/statuses/<sha> {state, name, description}, PRIVATE-TOKEN
//   gitea           POST /api/v1/repos/<o>/<r>/statuses/<sha> {state, context, description}, "token" auth
//   bitbucket       POST /2.0/repositories/<o>/<r>/commit/<sha>/statuses/build {state, key, name, url, description}
//   bitbucketserver POST /rest/api/latest/projects/<P>/repos/<r>/commits/<sha>/builds {state, key, name, url, description}
//   azuredevops     POST /<org>/<project>/_apis/git/repositories/<repo>/commits/<sha>/statuses?api-version=6.0
import { createHash } from "node:crypto";
import { ProviderType } from "../api/notification/v1beta3/provider";
import type { FluxEvent } from "./event";
import type { Alert } from "../api/notification/v1beta3/alert";
import { CelError } from "../runtime/cel";
import { githubHeaders, githubRepo } from "./alerting";
import { NotifierConfig, ProviderConfigError } from "./provider-config";
import { AttemptObserver, NotifierError, basicAuth, joinUrl, postJson } from "./transport";

export type CommitState = "success" | "failure" | "pending";

/** `main@sha1:abc`, `sha1:abc`, `main/abc` or `abc` → `abc`. */
export function parseRevision(rev: string): string {
  const at = rev.lastIndexOf("@");
  let r = at >= 0 ? rev.slice(at + 1) : rev;
  const colon = r.indexOf(":");
  if (colon >= 0) r = r.slice(colon + 1);
  else if (r.includes("/")) r = r.slice(r.lastIndexOf("/") + 1);
  if (!/^[0-9a-f]{7,64}$/i.test(r)) throw new Error(`the revision '${rev}' names no commit SHA`);
  return r;
}

/** `kind/name/<provider UID prefix>`, lowercase. */
export function commitStatusId(providerUid: string, ev: FluxEvent): string {
  return `${ev.involvedObject.kind}/${ev.involvedObject.name}/${providerUid.split("-")[0]}`.toLowerCase();
}

export function commitState(ev: FluxEvent): CommitState {
  if (ev.reason === "Progressing" || /progressing/i.test(ev.reason)) return "pending";
  return ev.severity === "error" ? "failure" : "success";
}

/** The commit the event is about, or undefined (no status is sent then). */
export function eventCommit(ev: FluxEvent): string | undefined {
  const rev = ev.metadata?.revision;
  return rev ? parseRevision(rev) : undefined;
}

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

/** Repository path segments of the address, without `.git`. */
function repoPath(address: URL, min: number): string[] {
  const parts = address.pathname.replace(/\.git$/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length < min) throw new ProviderConfigError(`invalid repository address '${address.origin}${address.pathname}': want <scheme>://<host>/<owner>/<repo>`);
  return parts;
}

/** spec.commitStatusExpr's value when set (Flux's variables event, provider, alert), else the default ID. */
export function statusId(cfg: NotifierConfig, ev: FluxEvent, alert?: Alert): string {
  if (!cfg.commitStatusExpr) return commitStatusId(cfg.provider.uid, ev);
  const plain = (o: unknown) => (o === undefined ? {} : JSON.parse(JSON.stringify(o)));
  try {
    const id = cfg.commitStatusExpr({ event: plain(ev), provider: plain(cfg.providerObject), alert: plain(alert) });
    if (!id) throw new CelError("it evaluated to an empty string");
    return id;
  } catch (e) {
    if (e instanceof CelError) throw new NotifierError(`failed to evaluate spec.commitStatusExpr of provider '${cfg.provider.namespace}/${cfg.provider.name}': ${e.message}`);
    throw e;
  }
}

export interface CommitStatusRequest { url: URL; body: Record<string, unknown>; headers: Record<string, string> }

/** The request that sets the status of `sha`, per service. */
export function commitStatusRequest(cfg: NotifierConfig, ev: FluxEvent, sha: string, alert?: Alert): CommitStatusRequest {
  const id = statusId(cfg, ev, alert);
  const state = commitState(ev);
  const a = cfg.address;
  const desc = ev.message;
  switch (cfg.type) {
    case ProviderType.GitHub: {
      const { api, owner, repo } = githubRepo(a);
      return { url: joinUrl(api, `repos/${owner}/${repo}/statuses/${sha}`), headers: githubHeaders(cfg.token!),
        body: { state, context: id, description: truncate(desc, 140) } };
    }
    case ProviderType.GitLab: {
      const project = repoPath(a, 1).join("/");
      return { url: new URL(`${a.origin}/api/v4/projects/${encodeURIComponent(project)}/statuses/${sha}`), headers: { "PRIVATE-TOKEN": cfg.token! },
        body: { state: state === "failure" ? "failed" : state === "pending" ? "pending" : "success", name: id, description: truncate(desc, 255) } };
    }
    case ProviderType.Gitea: {
      const [owner, repo] = repoPath(a, 2).slice(-2);
      const prefix = repoPath(a, 2).slice(0, -2).join("/");
      return { url: new URL(`${a.origin}${prefix ? `/${prefix}` : ""}/api/v1/repos/${owner}/${repo}/statuses/${sha}`), headers: { Authorization: `token ${cfg.token}` },
        body: { state, context: id, description: truncate(desc, 255) } };
    }
    case ProviderType.Bitbucket: {
      const [owner, repo] = repoPath(a, 2);
      const api = a.hostname === "bitbucket.org" ? "https://api.bitbucket.org" : a.origin;
      const i = cfg.token!.indexOf(":");
      return { url: new URL(`${api}/2.0/repositories/${owner}/${repo}/commit/${sha}/statuses/build`),
        headers: { Authorization: basicAuth(cfg.token!.slice(0, i), cfg.token!.slice(i + 1)) },
        body: { state: bitbucketState(state), key: sha1(id), name: id, url: `${a.origin}${a.pathname}`, description: truncate(desc, 255) } };
    }
    case ProviderType.BitbucketServer: {
      // HTTPS clone URL: https://<host>[/<context>]/scm/<project>/<repo>.git
      const parts = repoPath(a, 2);
      const scm = parts.lastIndexOf("scm");
      if (scm < 0 || parts.length - scm !== 3) throw new ProviderConfigError(`invalid Bitbucket Server address '${a.origin}${a.pathname}': want the HTTPS clone URL https://<host>/scm/<project>/<repo>.git`);
      const context = parts.slice(0, scm).join("/");
      const [project, repo] = parts.slice(scm + 1);
      const auth = cfg.token ? `Bearer ${cfg.token}` : basicAuth(cfg.username!, cfg.password!);
      return { url: new URL(`${a.origin}${context ? `/${context}` : ""}/rest/api/latest/projects/${project}/repos/${repo}/commits/${sha}/builds`),
        headers: { Authorization: auth, "X-Atlassian-Token": "no-check" },
        body: { state: bitbucketState(state), key: sha1(id), name: id, url: `${a.origin}${a.pathname}`, description: truncate(desc, 255) } };
    }
    case ProviderType.AzureDevOps: {
      // https://dev.azure.com/<org>/<project>/_git/<repo>
      const parts = repoPath(a, 4);
      const g = parts.indexOf("_git");
      if (g < 2 || g !== parts.length - 2) throw new ProviderConfigError(`invalid Azure DevOps address '${a.origin}${a.pathname}': want https://dev.azure.com/<org>/<project>/_git/<repo>`);
      const [org, project] = parts.slice(g - 2, g);
      const prefix = parts.slice(0, g - 2).join("/");
      const repo = parts[g + 1];
      const [genre, ...name] = id.split("/");
      return { url: new URL(`${a.origin}${prefix ? `/${prefix}` : ""}/${org}/${project}/_apis/git/repositories/${repo}/commits/${sha}/statuses?api-version=6.0`),
        headers: { Authorization: basicAuth("", cfg.token!) },
        body: { state: state === "failure" ? "failed" : state === "pending" ? "pending" : "succeeded", description: truncate(desc, 255),
          context: { genre: `fluxcd/${genre}`, name: name.join("/") } } };
    }
    default:
      throw new Error(`'${cfg.type}' is not a commit status provider`);
  }
}

const bitbucketState = (s: CommitState) => (s === "success" ? "SUCCESSFUL" : s === "failure" ? "FAILED" : "INPROGRESS");
const sha1 = (s: string) => createHash("sha1").update(s).digest("hex");

/** Sets the commit status; resolves without a request when the event has no revision. */
export async function sendCommitStatus(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver, alert?: Alert): Promise<boolean> {
  const sha = eventCommit(ev);
  if (!sha) return false;
  const r = commitStatusRequest(cfg, ev, sha, alert);
  await postJson(cfg, r.url, r.body, { ...cfg.headers, ...r.headers }, observe);
  return true;
}
