// Webhooks and alerting/observability APIs, each in the wire format its public API documents.
//   generic        the event JSON, gotk-component header, Secret headers
//   generic-hmac   the same + X-Signature: sha256=<hex HMAC of the body keyed by the token>
//   opsgenie       POST <address> (v2/alerts) {message, description, tags, details}, GenieKey auth
//   pagerduty      Events API v2: /v2/enqueue trigger (error) or resolve (info) + /v2/change/enqueue (info)
//   datadog        POST /api/v1/events {title, text, alert_type, tags, ...}, DD-API-KEY
//   sentry         an envelope to /api/<project>/envelope/: an error event, or a transaction with a span (info)
//   alertmanager   POST <address> (api/v2/alerts): [{labels, annotations, startsAt}]
//   grafana        POST <address> (api/annotations) {time, text, tags}
//   githubdispatch POST /repos/<owner>/<repo>/dispatches {event_type, client_payload}
//   azureeventhub  Event Hubs REST "send event": POST https://<ns>/<hub>/messages, SAS or bearer auth
//   googlepubsub   POST /v1/projects/<p>/topics/<t>:publish {messages: [{data, attributes}]}
//   otel           OTLP/HTTP JSON: POST <address>/v1/traces with one span per event
import { createHash, createHmac, createSign, randomBytes } from "node:crypto";
import type { Alert } from "../api/notification/v1beta3/alert";
import type { FluxEvent } from "./event";
import { eventTitle, metadataPairs } from "./chat";
import { NotifierConfig, ProviderConfigError } from "./provider-config";
import { AttemptObserver, basicAuth, joinUrl, postJson, send } from "./transport";

export const ComponentHeader = "gotk-component";
export const SignatureHeader = "X-Signature";

/** `sha256=<hex>`: the HMAC Flux's generic-hmac provider sends. */
export function hmacSignature(body: string | Buffer, key: string): string {
  return `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;
}

export async function sendGeneric(cfg: NotifierConfig, ev: FluxEvent, hmac: boolean, observe?: AttemptObserver): Promise<void> {
  const body = JSON.stringify(ev);
  const headers: Record<string, string> = { "Content-Type": "application/json", [ComponentHeader]: ev.reportingController, ...cfg.headers };
  if (hmac) headers[SignatureHeader] = hmacSignature(body, cfg.token!);
  await send(cfg, { url: cfg.address, body, headers }, observe);
}

export function opsgenieAlert(ev: FluxEvent): Record<string, unknown> {
  return {
    message: eventTitle(ev).slice(0, 130),
    description: ev.message,
    tags: ["flux", ev.severity],
    details: { ...Object.fromEntries(metadataPairs(ev)), severity: ev.severity, reason: ev.reason },
  };
}

export async function sendOpsgenie(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, cfg.address, opsgenieAlert(ev), { ...cfg.headers, Authorization: `GenieKey ${cfg.token}` }, observe);
}

/** The dedup key PagerDuty correlates trigger and resolve with: the involved object. */
const pagerDutyKey = (ev: FluxEvent) => `${ev.involvedObject.kind}/${ev.involvedObject.namespace}/${ev.involvedObject.name}`;

export function pagerDutyEvent(cfg: NotifierConfig, ev: FluxEvent): Record<string, unknown> {
  const trigger = ev.severity === "error";
  return {
    routing_key: cfg.channel,
    event_action: trigger ? "trigger" : "resolve",
    dedup_key: pagerDutyKey(ev),
    ...(trigger ? {
      payload: {
        summary: `${eventTitle(ev)}: ${ev.message}`.slice(0, 1024), source: ev.reportingController || "flux", severity: "error",
        timestamp: ev.timestamp || undefined, component: ev.involvedObject.name, group: ev.involvedObject.kind, class: ev.reason,
        custom_details: Object.fromEntries(metadataPairs(ev)),
      },
    } : {}),
  };
}

export function pagerDutyChange(cfg: NotifierConfig, ev: FluxEvent): Record<string, unknown> {
  return {
    routing_key: cfg.channel,
    payload: {
      summary: `${eventTitle(ev)}: ${ev.message}`.slice(0, 1024), source: ev.reportingController || "flux",
      timestamp: ev.timestamp || undefined, custom_details: Object.fromEntries(metadataPairs(ev)),
    },
  };
}

export async function sendPagerDuty(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, joinUrl(cfg.address, "v2/enqueue"), pagerDutyEvent(cfg, ev), cfg.headers, observe);
  if (ev.severity !== "error") await postJson(cfg, joinUrl(cfg.address, "v2/change/enqueue"), pagerDutyChange(cfg, ev), cfg.headers, observe);
}

export function datadogEvent(ev: FluxEvent): Record<string, unknown> {
  const io = ev.involvedObject;
  const tags = ["flux", `kind:${io.kind}`, `name:${io.name}`, `namespace:${io.namespace}`, `reason:${ev.reason}`,
    ...metadataPairs(ev).map(([k, v]) => `${k}:${v}`)];
  const t = Date.parse(ev.timestamp);
  return {
    title: eventTitle(ev), text: ev.message, alert_type: ev.severity === "error" ? "error" : "info",
    source_type_name: "fluxcd", aggregation_key: eventTitle(ev), tags,
    ...(Number.isFinite(t) ? { date_happened: Math.floor(t / 1000) } : {}),
  };
}

export async function sendDatadog(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, joinUrl(cfg.address, "api/v1/events"), datadogEvent(ev), { ...cfg.headers, "DD-API-KEY": cfg.token! }, observe);
}

/** A Sentry DSN `https://<key>@<host>/<project>`: the envelope endpoint and the key. */
export function parseSentryDsn(dsn: string): { url: URL; key: string; project: string } {
  let u: URL;
  try { u = new URL(dsn); } catch { throw new ProviderConfigError("invalid Sentry DSN: want https://<key>@<host>/<project>"); }
  const parts = u.pathname.split("/").filter(Boolean);
  const project = parts.pop();
  if (!u.username || !project) throw new ProviderConfigError("invalid Sentry DSN: want https://<key>@<host>/<project> (key or project missing)");
  const url = new URL(`${u.protocol}//${u.host}/${[...parts, "api", project, "envelope"].join("/")}/`);
  return { url, key: decodeURIComponent(u.username), project };
}

export function sentryEnvelope(cfg: NotifierConfig, ev: FluxEvent, now = new Date()): { header: Record<string, unknown>; item: Record<string, unknown>; payload: Record<string, unknown> } {
  const eventId = randomBytes(16).toString("hex");
  const ts = (Date.parse(ev.timestamp) || now.getTime()) / 1000;
  const meta = Object.fromEntries(metadataPairs(ev));
  const common = { event_id: eventId, timestamp: ts, platform: "other", server_name: ev.reportingController, ...(cfg.channel ? { environment: cfg.channel } : {}) };
  let payload: Record<string, unknown>;
  let type: string;
  if (ev.severity === "error") {
    type = "event";
    payload = { ...common, level: "error", message: { formatted: ev.message }, logger: ev.reportingController,
      tags: { kind: ev.involvedObject.kind, name: ev.involvedObject.name, namespace: ev.involvedObject.namespace, reason: ev.reason }, extra: meta };
  } else {
    type = "transaction";
    const traceId = randomBytes(16).toString("hex");
    const spanId = randomBytes(8).toString("hex");
    payload = { ...common, type: "transaction", transaction: eventTitle(ev), start_timestamp: ts,
      contexts: { trace: { trace_id: traceId, span_id: spanId, op: "flux.event" } },
      spans: [{ trace_id: traceId, span_id: randomBytes(8).toString("hex"), parent_span_id: spanId, op: ev.reason, description: ev.message,
        start_timestamp: ts, timestamp: ts, tags: meta }] };
  }
  return { header: { event_id: eventId, sent_at: now.toISOString(), dsn: cfg.rawAddress }, item: { type, content_type: "application/json" }, payload };
}

export async function sendSentry(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const { url, key } = parseSentryDsn(cfg.rawAddress);
  const env = sentryEnvelope(cfg, ev);
  const body = [JSON.stringify(env.header), JSON.stringify(env.item), JSON.stringify(env.payload)].join("\n") + "\n";
  await send(cfg, { url, body, headers: {
    ...cfg.headers, "Content-Type": "application/x-sentry-envelope",
    "X-Sentry-Auth": `Sentry sentry_version=7, sentry_client=gitops-notification-controller/1.0, sentry_key=${key}`,
  } }, observe);
}

export function alertmanagerAlerts(ev: FluxEvent): Record<string, unknown>[] {
  const io = ev.involvedObject;
  const meta = Object.fromEntries(metadataPairs(ev));
  const summary = meta.summary;
  delete meta.summary;
  const labels: Record<string, string> = {
    ...meta, alertname: `Flux${io.kind}${ev.reason.charAt(0).toUpperCase()}${ev.reason.slice(1)}`, severity: ev.severity, reason: ev.reason,
    kind: io.kind, name: io.name, namespace: io.namespace,
  };
  const annotations: Record<string, string> = { message: ev.message, ...(summary ? { summary } : {}) };
  return [{ labels, annotations, status: "firing", ...(ev.timestamp ? { startsAt: ev.timestamp } : {}) }];
}

export async function sendAlertmanager(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const url = new URL(cfg.address.href);
  const headers: Record<string, string> = { ...cfg.headers };
  if (url.username) {
    headers.Authorization = basicAuth(decodeURIComponent(url.username), decodeURIComponent(url.password));
    url.username = ""; url.password = "";
  } else if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
  // The events are not an Alertmanager status: `status` is not part of postableAlert.
  await postJson(cfg, url, alertmanagerAlerts(ev).map(({ status: _s, ...a }) => a), headers, observe);
}

export function grafanaAnnotation(ev: FluxEvent): Record<string, unknown> {
  const io = ev.involvedObject;
  const tags = ["flux", ev.reportingController, ...metadataPairs(ev).map(([k, v]) => `${k}: ${v}`),
    `kind: ${io.kind}`, `name: ${io.name}`, `namespace: ${io.namespace}`].filter(Boolean);
  const t = Date.parse(ev.timestamp);
  return { time: Number.isFinite(t) ? t : Date.now(), text: `${eventTitle(ev)}: ${ev.message}`, tags };
}

export async function sendGrafana(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const headers: Record<string, string> = { ...cfg.headers };
  if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
  else if (cfg.username && cfg.password) headers.Authorization = basicAuth(cfg.username, cfg.password);
  await postJson(cfg, cfg.address, grafanaAnnotation(ev), headers, observe);
}

/** `https://github.com/o/r` → api.github.com; any other host is GitHub Enterprise (`/api/v3`). */
export function githubRepo(address: URL): { api: URL; owner: string; repo: string } {
  const [owner, repo] = address.pathname.replace(/\.git$/, "").split("/").filter(Boolean);
  if (!owner || !repo) throw new ProviderConfigError(`invalid GitHub repository address '${address.origin}${address.pathname}': want https://<host>/<owner>/<repo>`);
  const api = address.hostname === "github.com" ? new URL("https://api.github.com/") : new URL(`${address.origin}/api/v3/`);
  return { api, owner, repo };
}

export const githubHeaders = (token: string) => ({ Authorization: `Bearer ${token}`, Accept: "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28" });

export async function sendGitHubDispatch(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const { api, owner, repo } = githubRepo(cfg.address);
  await postJson(cfg, joinUrl(api, `repos/${owner}/${repo}/dispatches`), { event_type: eventTitle(ev), client_payload: ev },
    { ...cfg.headers, ...githubHeaders(cfg.token!) }, observe);
}

/** SAS token for `uri` (Event Hubs/Service Bus): HMAC-SHA256 of "<encoded uri>\n<expiry>". */
export function sasToken(uri: string, keyName: string, key: string, expiry: number): string {
  const sr = encodeURIComponent(uri);
  const sig = createHmac("sha256", key).update(`${sr}\n${expiry}`).digest("base64");
  return `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiry}&skn=${encodeURIComponent(keyName)}`;
}

/** Where to POST and how to authenticate, from a connection string or namespace + hub + JWT. */
export function eventHubTarget(cfg: NotifierConfig, now = Date.now()): { url: URL; auth: string } {
  if (cfg.rawAddress.startsWith("Endpoint=")) {
    const parts = Object.fromEntries(cfg.rawAddress.split(";").filter(Boolean).map((p) => {
      const i = p.indexOf("=");
      return [p.slice(0, i), p.slice(i + 1)];
    }));
    const endpoint = parts.Endpoint;
    const hub = parts.EntityPath;
    if (!endpoint || !parts.SharedAccessKeyName || !parts.SharedAccessKey || !hub) {
      throw new ProviderConfigError("invalid Event Hubs connection string in the 'address' key: want Endpoint=sb://<namespace>/;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=<hub>");
    }
    const base = new URL(endpoint.replace(/^sb:/, "https:"));
    const resource = `${base.origin}/${hub}`;
    return { url: new URL(`${resource}/messages`), auth: sasToken(resource, parts.SharedAccessKeyName, parts.SharedAccessKey, Math.floor(now / 1000) + 3600) };
  }
  const ns = cfg.channel!;
  const host = /[.:]/.test(ns) ? ns : `${ns}.servicebus.windows.net`;
  return { url: new URL(`https://${host}/${encodeURIComponent(cfg.rawAddress)}/messages`), auth: `Bearer ${cfg.token}` };
}

export async function sendAzureEventHub(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const { url, auth } = eventHubTarget(cfg);
  await send(cfg, { url, body: JSON.stringify(ev), headers: { ...cfg.headers, Authorization: auth, "Content-Type": "application/atom+xml;type=entry;charset=utf-8" } }, observe);
}

interface ServiceAccount { client_email: string; private_key: string; token_uri?: string }

/** An OAuth access token for a service account key (JWT bearer grant, RS256). */
async function googleAccessToken(cfg: NotifierConfig, creds: ServiceAccount, observe?: AttemptObserver): Promise<string> {
  const tokenUri = creds.token_uri ?? "https://oauth2.googleapis.com/token";
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const iat = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: "RS256", typ: "JWT" })}.${b64({ iss: creds.client_email, scope: "https://www.googleapis.com/auth/pubsub", aud: tokenUri, iat, exp: iat + 3600 })}`;
  const sig = createSign("RSA-SHA256").update(unsigned).sign(creds.private_key).toString("base64url");
  const res = await send(cfg, { url: new URL(tokenUri), headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: `${unsigned}.${sig}` }).toString() }, observe);
  const token = (JSON.parse(res.body) as { access_token?: string }).access_token;
  if (!token) throw new Error(`the token endpoint ${new URL(tokenUri).origin} returned no access_token`);
  return token;
}

/** Publishes to Pub/Sub; PUBSUB_EMULATOR_HOST (Google's documented switch) targets an emulator without auth. */
export async function sendGooglePubSub(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const emulator = process.env.PUBSUB_EMULATOR_HOST;
  const base = emulator ? new URL(`http://${emulator}/`) : new URL("https://pubsub.googleapis.com/");
  const url = joinUrl(base, `v1/projects/${encodeURIComponent(cfg.rawAddress)}/topics/${encodeURIComponent(cfg.channel!)}:publish`);
  const headers: Record<string, string> = {};
  if (!emulator) {
    if (!cfg.token) throw new ProviderConfigError("a googlepubsub provider needs JSON service account credentials in the 'token' key of spec.secretRef (workload identity is not supported by this notification-controller)");
    let creds: ServiceAccount;
    try { creds = JSON.parse(cfg.token) as ServiceAccount; } catch { throw new ProviderConfigError("the 'token' key of spec.secretRef is not JSON service account credentials"); }
    headers.Authorization = `Bearer ${await googleAccessToken(cfg, creds, observe)}`;
  }
  const message = { data: Buffer.from(JSON.stringify(ev)).toString("base64"), ...(Object.keys(cfg.headers).length ? { attributes: cfg.headers } : {}) };
  await postJson(cfg, url, { messages: [message] }, headers, observe);
}

const sourceKinds = new Set(["GitRepository", "HelmChart", "OCIRepository", "Bucket"]);

/** One OTLP span: trace ID from `<alert UID>:<revision>`, root span for sources, child span otherwise. */
export function otelSpans(ev: FluxEvent, alert: Alert | undefined): Record<string, unknown> | undefined {
  if (ev.involvedObject.kind === "HelmRepository") return undefined;
  const rev = ev.metadata?.revision ?? ev.metadata?.originRevision ?? "";
  const traceId = createHash("sha256").update(`${alert?.metadata.uid ?? ""}:${rev}`).digest("hex").slice(0, 32);
  const rootSpan = createHash("sha256").update(`root:${traceId}`).digest("hex").slice(0, 16);
  const isRoot = sourceKinds.has(ev.involvedObject.kind);
  const spanId = isRoot ? rootSpan : randomBytes(8).toString("hex");
  const t = BigInt(Date.parse(ev.timestamp) || Date.now()) * 1_000_000n;
  const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });
  return {
    resourceSpans: [{
      resource: { attributes: [attr("service.name", `${alert?.metadata.namespace ?? ""}/${alert?.metadata.name ?? ""}`)] },
      scopeSpans: [{
        scope: { name: "notification-controller" },
        spans: [{
          traceId, spanId, ...(isRoot ? {} : { parentSpanId: rootSpan }), name: `${eventTitle(ev)}: ${ev.reason}`, kind: 1,
          startTimeUnixNano: String(t), endTimeUnixNano: String(t),
          attributes: [attr("flux.message", ev.message), attr("flux.severity", ev.severity), ...metadataPairs(ev).map(([k, v]) => attr(`flux.metadata.${k}`, v))],
          status: { code: ev.severity === "error" ? 2 : 1 },
        }],
      }],
    }],
  };
}

export async function sendOtel(cfg: NotifierConfig, ev: FluxEvent, alert: Alert | undefined, observe?: AttemptObserver): Promise<void> {
  const body = otelSpans(ev, alert);
  if (!body) return;
  const url = cfg.address.pathname.endsWith("/v1/traces") ? cfg.address : joinUrl(cfg.address, "v1/traces");
  const headers: Record<string, string> = { ...cfg.headers };
  if (cfg.username && cfg.password) headers.Authorization = basicAuth(cfg.username, cfg.password);
  else if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
  await postJson(cfg, url, body, headers, observe);
}
