// Change request comments (Flux 2.8): one deduplicated status comment per object on the pull or
// merge request named by the event metadata `event.toolkit.fluxcd.io/change_request` (the
// group prefix is stripped before this point, so the key is `change_request`). The comment
// starts with a hidden marker `<!-- <prefix>:<provider UID>/<kind>/<ns>/<name> -->`; a comment
// of the authenticated user carrying it (first 100, oldest first) is edited, otherwise one is created.
//   githubpullrequestcomment  GET /user; GET /repos/<o>/<r>/issues/<n>/comments; PATCH /repos/<o>/<r>/issues/comments/<id> | POST .../issues/<n>/comments
//   gitlabmergerequestcomment GET /api/v4/user; GET /api/v4/projects/<path>/merge_requests/<iid>/notes; PUT .../notes/<id> | POST .../notes
//   giteapullrequestcomment   GET /api/v1/user; GET /api/v1/repos/<o>/<r>/issues/<n>/comments; PATCH /api/v1/repos/<o>/<r>/issues/comments/<id> | POST .../issues/<n>/comments
import { ProviderType } from "../api/notification/v1beta3/provider";
import type { FluxEvent } from "./event";
import { githubHeaders, githubRepo } from "./alerting";
import { NotifierConfig, ProviderConfigError } from "./provider-config";
import { AttemptObserver, NotifierError, joinUrl, postJson, send } from "./transport";

const T = ProviderType;

export const ChangeRequestCommentProviderTypes: readonly string[] = [T.GitHubPullRequestComment, T.GitLabMergeRequestComment, T.GiteaPullRequestComment];

/** The metadata key naming the pull/merge request, with and without the event group prefix. */
export const ChangeRequestKey = "change_request";
export const ChangeRequestMetaKey = `event.toolkit.fluxcd.io/${ChangeRequestKey}`;

const markerPrefix = (type: string) => (type === T.GitLabMergeRequestComment ? "flux-mr-comment-key" : "flux-pr-comment-key");

export function commentMarker(cfg: NotifierConfig, ev: FluxEvent): string {
  const o = ev.involvedObject;
  return `<!-- ${markerPrefix(cfg.type)}:${cfg.provider.uid}/${o.kind}/${o.namespace}/${o.name} -->`;
}

/** The comment text, as Flux formats it. */
export function commentBody(cfg: NotifierConfig, ev: FluxEvent): string {
  const o = ev.involvedObject;
  const emoji = ev.severity === "error" ? "\u26a0\ufe0f" : "\u2139\ufe0f";
  const meta = Object.keys(ev.metadata ?? {}).filter((k) => k !== ChangeRequestKey).sort()
    .map((k) => `* \`${k}\`: ${ev.metadata![k]}\n`).join("");
  return `${commentMarker(cfg, ev)}\n\n## Flux Status\n\n${emoji} ${o.kind}/${o.namespace}/${o.name}\n\n${ev.message}\n\nMetadata:\n${meta}`;
}

/** The pull/merge request number; NotifierError when missing or not a number. */
export function changeRequestNumber(ev: FluxEvent): number {
  const v = ev.metadata?.[ChangeRequestKey];
  if (v === undefined) throw new NotifierError(`missing "${ChangeRequestKey}" metadata key: annotate the object with ${ChangeRequestMetaKey}: "<number>"`);
  if (!/^\d+$/.test(v.trim())) throw new NotifierError(`invalid "${ChangeRequestKey}" metadata value "${v}": want the pull or merge request number`);
  return Number(v.trim());
}

const withQuery = (u: URL, q: string) => { u.search = q; return u; };

interface Api {
  user: URL; list: URL; create: URL; edit: (id: number) => URL; editMethod: string; headers: Record<string, string>;
  login: (u: any) => string; author: (c: any) => string | undefined;
}

function repoParts(a: URL, min: number): string[] {
  const parts = a.pathname.replace(/\.git$/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length < min) throw new ProviderConfigError(`invalid repository address '${a.origin}${a.pathname}': want <scheme>://<host>/<owner>/<repo>`);
  return parts;
}

function api(cfg: NotifierConfig, n: number): Api {
  const a = cfg.address;
  switch (cfg.type) {
    case T.GitHubPullRequestComment: {
      const { api: base, owner, repo } = githubRepo(a);
      const r = `repos/${owner}/${repo}/issues`;
      return { user: joinUrl(base, "user"), list: withQuery(joinUrl(base, `${r}/${n}/comments`), "sort=created&direction=asc&per_page=100"),
        create: joinUrl(base, `${r}/${n}/comments`), edit: (id) => joinUrl(base, `${r}/comments/${id}`), editMethod: "PATCH",
        headers: githubHeaders(cfg.token!), login: (u) => u?.login, author: (c) => c?.user?.login };
    }
    case T.GitLabMergeRequestComment: {
      const project = encodeURIComponent(repoParts(a, 1).join("/"));
      const base = `${a.origin}/api/v4`;
      const mr = `${base}/projects/${project}/merge_requests/${n}/notes`;
      return { user: new URL(`${base}/user`), list: new URL(`${mr}?sort=asc&order_by=created_at&per_page=100`), create: new URL(mr),
        edit: (id) => new URL(`${mr}/${id}`), editMethod: "PUT", headers: { "PRIVATE-TOKEN": cfg.token! },
        login: (u) => u?.username, author: (c) => c?.author?.username };
    }
    case T.GiteaPullRequestComment: {
      const parts = repoParts(a, 2);
      const [owner, repo] = parts.slice(-2);
      const prefix = parts.slice(0, -2).join("/");
      const base = `${a.origin}${prefix ? `/${prefix}` : ""}/api/v1`;
      const r = `${base}/repos/${owner}/${repo}/issues`;
      return { user: new URL(`${base}/user`), list: new URL(`${r}/${n}/comments?page=1&limit=100`), create: new URL(`${r}/${n}/comments`),
        edit: (id) => new URL(`${r}/comments/${id}`), editMethod: "PATCH", headers: { Authorization: `token ${cfg.token}` },
        login: (u) => u?.login ?? u?.username, author: (c) => c?.user?.login ?? c?.user?.username };
    }
    default:
      throw new Error(`'${cfg.type}' is not a change request comment provider`);
  }
}

async function getJson(cfg: NotifierConfig, url: URL, headers: Record<string, string>, what: string): Promise<any> {
  const res = await send(cfg, { method: "GET", url, headers: { ...cfg.headers, ...headers, Accept: headers.Accept ?? "application/json" } })
    .catch((e: Error) => { throw new NotifierError(`failed to ${what}: ${e.message}`, (e as NotifierError).status); });
  try { return JSON.parse(res.body); } catch { throw new NotifierError(`failed to ${what}: GET ${url.origin}${url.pathname} answered no JSON`); }
}

/** Creates or updates the object's status comment on the change request. */
export async function sendChangeRequestComment(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const n = changeRequestNumber(ev);
  const x = api(cfg, n);
  const body = commentBody(cfg, ev);
  const marker = commentMarker(cfg, ev);
  const login = x.login(await getJson(cfg, x.user, x.headers, "get the authenticated user"));
  const comments = await getJson(cfg, x.list, x.headers, "list the change request comments");
  const mine = Array.isArray(comments)
    ? comments.find((c) => x.author(c) === login && typeof c?.body === "string" && c.body.includes(marker)) : undefined;
  if (mine) await postJson(cfg, x.edit(mine.id), { body }, { ...cfg.headers, ...x.headers }, observe, x.editMethod);
  else await postJson(cfg, x.create, { body }, { ...cfg.headers, ...x.headers }, observe);
}
