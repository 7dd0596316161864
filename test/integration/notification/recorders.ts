// Recording servers standing in for the SaaS APIs Providers send to. Each answers as the real
// service documents (status code and the JSON its clients read) and refuses a request without
// the credentials its API requires, so a wrong header fails the test the way the service would.
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { createTestCertificates, TestCertificates } from "../../support/git-tls";
import { RecordedRequest, readRecordedRequest } from "../../support/recorded-request";
import { onTeardown } from "../../support/teardown";

export type Recorded = RecordedRequest;

export interface Answer { status: number; body?: unknown; headers?: Record<string, string> }

/** Decides the answer to a request (by service rules); undefined = 200 with no body. */
export type Responder = (r: Recorded) => Answer | undefined;

export interface Recorder {
  url(p?: string): string;
  requests: Recorded[];
  /** Requests whose path starts with `prefix`. */
  under(prefix: string): Recorded[];
  /** Overrides every answer (e.g. a 500 for retry tests); undefined = the service's own rules. */
  force?: Answer[];
  close(): Promise<void>;
}

export async function startRecorder(respond: Responder = () => undefined, tls?: TestCertificates): Promise<Recorder> {
  const rec: Recorder = {
    requests: [], url: () => "", under: (p) => rec.requests.filter((r) => r.path.startsWith(p)), close: async () => undefined,
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void readRecordedRequest(req).then((r) => {
      rec.requests.push(r);
      const a = rec.force?.shift() ?? respond(r) ?? { status: 200 };
      const text = a.body === undefined ? "" : typeof a.body === "string" ? a.body : JSON.stringify(a.body);
      res.writeHead(a.status, { "content-type": typeof a.body === "string" ? "text/plain" : "application/json", ...(a.headers ?? {}) }).end(text);
    }, () => res.destroy());
  };
  const server = tls ? https.createServer({ cert: tls.certPem, key: tls.keyPem }, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  rec.url = (p = "/") => `${tls ? "https" : "http"}://127.0.0.1:${port}${p}`;
  rec.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  onTeardown(rec.close);
  return rec;
}

let certs: Promise<TestCertificates> | undefined;
/** A CA and a 127.0.0.1 serving certificate, made once per run. */
export function testCertificates(): Promise<TestCertificates> {
  certs ??= createTestCertificates(fs.mkdtempSync(path.join(os.tmpdir(), "notify-tls-")));
  return certs;
}

const h = (r: Recorded, name: string) => String(r.headers[name.toLowerCase()] ?? "");
const deny = (status: number, body: unknown): Answer => ({ status, body });

/** Chat webhooks and APIs: Slack, Discord, Rocket, Teams, Google Chat, Webex, Telegram, Matrix, Lark, Zulip. */
export const chatRules: Responder = (r) => {
  if (r.path.startsWith("/api/chat.postMessage")) {
    return h(r, "authorization").startsWith("Bearer ") ? { status: 200, body: { ok: true, channel: r.json?.channel, ts: "1.2" } } : { status: 200, body: { ok: false, error: "not_authed" } };
  }
  if (r.path.startsWith("/v1/messages")) {
    return h(r, "authorization").startsWith("Bearer ") ? { status: 200, body: { id: "m1", roomId: r.json?.roomId } } : deny(401, { message: "The request requires a valid access token set in the Authorization request header." });
  }
  const tg = /^\/bot([^/]+)\/sendMessage$/.exec(r.path);
  if (tg) {
    if (tg[1] === "bad") return deny(401, { ok: false, error_code: 401, description: "Unauthorized" });
    return { status: 200, body: { ok: true, result: { message_id: 1, chat: { id: r.json?.chat_id }, text: r.json?.text } } };
  }
  if (r.path.startsWith("/_matrix/client/v3/rooms/")) {
    if (r.method !== "PUT") return deny(405, { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" });
    return h(r, "authorization").startsWith("Bearer ") ? { status: 200, body: { event_id: "$ev1" } } : deny(401, { errcode: "M_MISSING_TOKEN", error: "Missing access token" });
  }
  if (r.path.startsWith("/open-apis/bot/v2/hook/")) return { status: 200, body: { code: 0, msg: "success", data: {} } };
  if (r.path === "/api/v1/messages") {
    return h(r, "authorization").startsWith("Basic ") ? { status: 200, body: { result: "success", msg: "", id: 42 } } : deny(401, { result: "error", msg: "Missing authorization", code: "UNAUTHORIZED" });
  }
  return { status: 200, body: "ok" };
};

/** Alerting/observability APIs. */
export const alertingRules: Responder = (r) => {
  if (r.path.startsWith("/v2/alerts") && h(r, "authorization").startsWith("GenieKey ")) return { status: 202, body: { result: "Request will be processed", took: 0.1, requestId: "r1" } };
  if (r.path === "/v2/alerts") return deny(401, { message: "Could not authenticate", took: 0, requestId: "r0" });
  if (r.path === "/v2/enqueue" || r.path === "/v2/change/enqueue") {
    return r.json?.routing_key ? { status: 202, body: { status: "success", message: "Event processed", dedup_key: r.json.dedup_key ?? "k" } } : deny(400, { status: "invalid event", message: "Event object is invalid", errors: ["'routing_key' is missing or blank"] });
  }
  if (r.path === "/api/v1/events") return h(r, "dd-api-key") ? { status: 202, body: { status: "ok", event: { id: 1 } } } : deny(403, { errors: ["Forbidden"] });
  if (/^\/api\/\d+\/envelope\/$/.test(r.path)) return /sentry_key=/.test(h(r, "x-sentry-auth")) ? { status: 200, body: { id: r.body.split("\n")[0] && JSON.parse(r.body.split("\n")[0]).event_id } } : deny(401, { detail: "missing authorization information" });
  if (r.path.startsWith("/api/v2/alerts")) return Array.isArray(r.json) ? { status: 200 } : deny(400, { code: 400, message: "json: cannot unmarshal object into Go value of type models.PostableAlerts" });
  if (r.path === "/api/annotations") return { status: 200, body: { message: "Annotation added", id: 1 } };
  if (/^\/api\/v3\/repos\/[^/]+\/[^/]+\/dispatches$/.test(r.path)) return h(r, "authorization").startsWith("Bearer ") ? { status: 204 } : deny(401, { message: "Requires authentication" });
  if (/\/messages$/.test(r.path) && r.path.split("/").length === 3) {
    return /^(SharedAccessSignature sr=.+&sig=.+&se=\d+&skn=.+|Bearer .+)$/.test(h(r, "authorization")) ? { status: 201 } : deny(401, "MalformedToken: The credentials contained in the authorization header are not in the WRAP format.");
  }
  if (/^\/v1\/projects\/[^/]+\/topics\/[^/]+:publish$/.test(r.path)) return { status: 200, body: { messageIds: ["1"] } };
  if (r.path === "/v1/traces") return { status: 200, body: { partialSuccess: {} } };
  return { status: 404, body: "404 page not found" };
};

/** Commit status REST APIs: GitHub(/api/v3), GitLab, Gitea, Bitbucket Cloud/Server, Azure DevOps. */
export const commitStatusRules: Responder = (r) => {
  const auth = h(r, "authorization");
  if (/^\/api\/v3\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]+$/.test(r.path)) {
    return auth.startsWith("Bearer ") && auth !== "Bearer bad" ? { status: 201, body: { id: 1, state: r.json?.state, context: r.json?.context } } : deny(401, { message: "Bad credentials" });
  }
  if (/^\/api\/v4\/projects\/[^/]+\/statuses\/[0-9a-f]+$/.test(r.path)) {
    return h(r, "private-token") ? { status: 201, body: { id: 1, status: r.json?.state, name: r.json?.name } } : deny(401, { message: "401 Unauthorized" });
  }
  if (/^\/api\/v1\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]+$/.test(r.path)) {
    return auth.startsWith("token ") ? { status: 201, body: { id: 1, status: r.json?.state, context: r.json?.context } } : deny(401, { message: "token is required" });
  }
  if (/^\/2\.0\/repositories\/[^/]+\/[^/]+\/commit\/[0-9a-f]+\/statuses\/build$/.test(r.path)) {
    if (!auth.startsWith("Basic ")) return deny(401, { type: "error", error: { message: "Unauthorized" } });
    return r.json?.key && r.json?.url ? { status: 201, body: { type: "commitstatus", ...r.json } } : deny(400, { type: "error", error: { message: "key and url are required" } });
  }
  if (/^\/rest\/api\/latest\/projects\/[^/]+\/repos\/[^/]+\/commits\/[0-9a-f]+\/builds$/.test(r.path)) {
    return auth ? { status: 204 } : deny(401, { errors: [{ message: "Authentication failed" }] });
  }
  if (/^\/[^/]+\/[^/]+\/_apis\/git\/repositories\/[^/]+\/commits\/[0-9a-f]+\/statuses\?api-version=/.test(r.path)) {
    return auth.startsWith("Basic ") ? { status: 201, body: { id: 1, state: r.json?.state } } : deny(203, "<html>sign in</html>");
  }
  return { status: 404, body: { message: "Not Found" } };
};
