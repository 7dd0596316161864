// Change request comment Providers (githubpullrequestcomment, gitlabmergerequestcomment,
// giteapullrequestcomment): a HelmRelease event annotated with the pull/merge request number
// creates one status comment carrying Flux's hidden marker; the next event edits that comment
// (found among the authenticated user's comments), events without the annotation send nothing.
import { expect } from "chai";
import type { Provider } from "../../../controllers/api/notification/v1beta3/provider";
import { eventually, newNamespace } from "../../support/cluster";
import { Recorded, Recorder } from "./recorders";
import { NotificationStack, createProvider, postEvent, providerWithAlert, waitForEvent, withStackAndRecorder } from "./support";

/** A forge holding comments per list path; answers the user, list, create and edit calls. */
function forge() {
  const comments = new Map<string, { id: number; body: string; user: any; author: any }[]>();
  let next = 100;
  const respond = (r: Recorded) => {
    const auth = String(r.headers.authorization ?? r.headers["private-token"] ?? "");
    if (!auth || auth.endsWith("bad")) return { status: 401, body: { message: "Bad credentials" } };
    if (/\/user$/.test(r.path)) return { status: 200, body: { login: "flux-bot", username: "flux-bot" } };
    const path = r.path.split("?")[0];
    const list = /^(.*\/(?:comments|notes))$/.exec(path);
    if (r.method === "GET" && list) return { status: 200, body: comments.get(path) ?? [] };
    if (r.method === "POST" && list) {
      const c = { id: next++, body: r.json.body, user: { login: "flux-bot" }, author: { username: "flux-bot" } };
      comments.set(path, [...(comments.get(path) ?? []), c]);
      return { status: 201, body: c };
    }
    const edit = /\/(\d+)$/.exec(path);
    if ((r.method === "PATCH" || r.method === "PUT") && edit) {
      for (const cs of comments.values()) for (const c of cs) if (c.id === Number(edit[1])) { c.body = r.json.body; return { status: 200, body: c }; }
      return { status: 404, body: { message: "Not Found" } };
    }
    return { status: 404, body: { message: "Not Found" } };
  };
  return { comments, respond };
}

const hrEvent = (ns: string, message: string, meta: Record<string, string>, severity = "info") => ({
  involvedObject: { kind: "HelmRelease", namespace: ns, name: "app", apiVersion: "helm.toolkit.fluxcd.io/v2" },
  severity, timestamp: "2026-01-02T03:04:05Z", reason: severity === "error" ? "UpgradeFailed" : "UpgradeSucceeded",
  message, reportingController: "helm-controller", metadata: meta,
});

describe("Provider: pull/merge request comments on GitHub, GitLab and Gitea", function () {
  let stack: NotificationStack;
  let rec: Recorder;
  const f = forge();
  withStackAndRecorder((r) => f.respond(r), (s, r) => { stack = s; rec = r; });

  async function setup(ns: string, spec: Provider["spec"], token = "tok"): Promise<Provider> {
    return providerWithAlert(stack, ns, { provider: "pr", secretName: "git", spec, secret: { token }, alertSpec: { eventSources: [{ kind: "HelmRelease", name: "*" }] } });
  }
  const post = async (ev: Record<string, unknown>) => expect(await postEvent(stack.eventsUrl, ev)).to.equal(202);

  const cases = [
    { type: "githubpullrequestcomment", addr: (ns: string) => `/org/${ns}`, prefix: "flux-pr-comment-key",
      user: "/api/v3/user", list: (ns: string) => `/api/v3/repos/org/${ns}/issues/42/comments`, edit: (ns: string, id: number) => `/api/v3/repos/org/${ns}/issues/comments/${id}`,
      editMethod: "PATCH", auth: ["authorization", "Bearer tok"], query: "?sort=created&direction=asc&per_page=100" },
    { type: "gitlabmergerequestcomment", addr: (ns: string) => `/group/${ns}`, prefix: "flux-mr-comment-key",
      user: "/api/v4/user", list: (ns: string) => `/api/v4/projects/group%2F${ns}/merge_requests/42/notes`, edit: (ns: string, id: number) => `/api/v4/projects/group%2F${ns}/merge_requests/42/notes/${id}`,
      editMethod: "PUT", auth: ["private-token", "tok"], query: "?sort=asc&order_by=created_at&per_page=100" },
    { type: "giteapullrequestcomment", addr: (ns: string) => `/org/${ns}`, prefix: "flux-pr-comment-key",
      user: "/api/v1/user", list: (ns: string) => `/api/v1/repos/org/${ns}/issues/42/comments`, edit: (ns: string, id: number) => `/api/v1/repos/org/${ns}/issues/comments/${id}`,
      editMethod: "PATCH", auth: ["authorization", "token tok"], query: "?page=1&limit=100" },
  ];

  for (const c of cases) {
    it(`${c.type}: creates one marked comment on request 42, then edits it; ignores unannotated events`, async function () {
      const ns = await newNamespace();
      const p = await setup(ns, { type: c.type as Provider["spec"]["type"], address: rec.url(c.addr(ns)) });
      const marker = `<!-- ${c.prefix}:${p.metadata.uid}/HelmRelease/${ns}/app -->`;
      const meta = { "event.toolkit.fluxcd.io/change_request": "42", "event.toolkit.fluxcd.io/commit": "abc123", "helm.toolkit.fluxcd.io/revision": "1.0.0" };
      // No change_request annotation: nothing is sent.
      await post(hrEvent(ns, "not for a PR", { "helm.toolkit.fluxcd.io/revision": "0.9.0" }));
      await post(hrEvent(ns, "Helm upgrade succeeded", meta));
      const list = c.list(ns);
      await eventually(() => f.comments.get(list)?.length === 1, { timeoutMs: 20000, what: "the comment" });
      const created = rec.requests.filter((r) => r.path.startsWith(list) && r.method === "POST");
      expect(created).to.have.length(1);
      expect(created[0].headers[c.auth[0]]).to.equal(c.auth[1]);
      expect(created[0].json).to.deep.equal({ body: `${marker}\n\n## Flux Status\n\n\u2139\ufe0f HelmRelease/${ns}/app\n\nHelm upgrade succeeded\n\nMetadata:\n* \`commit\`: abc123\n* \`revision\`: 1.0.0\n` });
      expect(rec.requests.some((r) => r.path === `${list}${c.query}` && r.method === "GET")).to.equal(true);
      expect(rec.requests.some((r) => r.path === c.user && r.headers[c.auth[0]] === c.auth[1])).to.equal(true);
      expect(rec.requests.some((r) => r.json?.body?.includes("not for a PR"))).to.equal(false);

      await post(hrEvent(ns, "Helm upgrade failed: timed out", meta, "error"));
      const id = f.comments.get(list)![0].id;
      const edit = await eventually(() => rec.requests.find((r) => r.path === c.edit(ns, id)), { timeoutMs: 20000, what: "the edit" });
      expect(edit.method).to.equal(c.editMethod);
      expect(edit.json.body).to.equal(`${marker}\n\n## Flux Status\n\n\u26a0\ufe0f HelmRelease/${ns}/app\n\nHelm upgrade failed: timed out\n\nMetadata:\n* \`commit\`: abc123\n* \`revision\`: 1.0.0\n`);
      expect(f.comments.get(list)).to.have.length(1);
    });
  }

  it("reports a bad change_request value and a refused token as Warning Events on the Alert", async function () {
    const ns = await newNamespace();
    await setup(ns, { type: "githubpullrequestcomment", address: rec.url(`/org/${ns}`) });
    await post(hrEvent(ns, "x", { "event.toolkit.fluxcd.io/change_request": "pr-7" }));
    await waitForEvent(stack.client, ns, "Alert", "a", /failed to send notification for HelmRelease\/.+\/app: invalid "change_request" metadata value "pr-7": want the pull or merge request number/, "NotificationDispatchFailed");
    const ns2 = await newNamespace();
    await setup(ns2, { type: "gitlabmergerequestcomment", address: rec.url(`/group/${ns2}`) }, "bad");
    await post(hrEvent(ns2, "y", { "event.toolkit.fluxcd.io/change_request": "3" }));
    await waitForEvent(stack.client, ns2, "Alert", "a", /failed to get the authenticated user: GET http:\/\/127\.0\.0\.1:\d+\/\.\.\. failed with status code 401: \{"message":"Bad credentials"\} \(check the credentials in the secret '.+\/git'\)/, "NotificationDispatchFailed");
  });

  it("needs a token", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "pr", { type: "giteapullrequestcomment", address: rec.url(`/org/${ns}`) });
    await waitForEvent(stack.client, ns, "Provider", "pr", /a giteapullrequestcomment provider needs a 'token' key in a secret referenced by spec\.secretRef/, "InvalidConfig");
  });
});
