// One HTTP request to a Provider's service, as Flux's notifiers send it: the Provider's TLS
// material (CA, client certificate), its proxy (CONNECT for https, absolute URI for http), its
// timeout, and retries on connection errors, 429 and 5xx (not 501) with doubling delays, as
// retryablehttp does for Flux. A non-2xx answer is a NotifierError carrying the service's
// response and a hint at what to fix.
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import * as tls from "node:tls";
import { sleep, systemClock } from "../runtime/clock";
import { NotifierConfig, redact } from "./provider-config";

export class NotifierError extends Error {
  override readonly name = "NotifierError";
  constructor(message: string, readonly status?: number) { super(message); }
}

export interface HttpRequest {
  method?: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpResponse { status: number; body: string; headers: http.IncomingHttpHeaders }

/** Called once per attempt: `success`, `retry` (a failed attempt that will be retried) or `failure`. */
export type AttemptObserver = (result: "success" | "retry" | "failure") => void;

const retryable = (status: number) => status === 429 || (status >= 500 && status !== 501);

/** Sends `req` with `cfg`'s transport settings; resolves on 2xx, else NotifierError after the retries. */
export async function send(cfg: NotifierConfig, req: HttpRequest, observe?: AttemptObserver): Promise<HttpResponse> {
  const method = req.method ?? "POST";
  const what = `${method} ${redact(req.url)}`;
  for (let attempt = 0; ; attempt++) {
    let err: NotifierError;
    try {
      const res = await once(cfg, { ...req, method });
      if (res.status >= 200 && res.status < 300) { observe?.("success"); return res; }
      const text = res.body.replace(/\s+/g, " ").trim().slice(0, 300);
      err = new NotifierError(`${what} failed with status code ${res.status}${text ? `: ${text}` : ""}${hint(cfg, res.status)}`, res.status);
      if (!retryable(res.status)) { observe?.("failure"); throw err; }
    } catch (e) {
      if (e instanceof NotifierError && e.status !== undefined && !retryable(e.status)) throw e;
      err = e instanceof NotifierError ? e : new NotifierError(`${what}: ${(e as Error).message}`);
    }
    if (attempt >= cfg.retry.retries) {
      observe?.("failure");
      if (attempt > 0) err.message += ` (gave up after ${attempt + 1} attempts)`;
      throw err;
    }
    observe?.("retry");
    await sleep(systemClock, Math.min(30_000, cfg.retry.baseMs * 2 ** attempt));
  }
}

function hint(cfg: NotifierConfig, status: number): string {
  const where = cfg.secretName ? `the secret '${cfg.secretName}'` : "spec.secretRef";
  if (status === 401 || status === 403) return ` (check the credentials in ${where})`;
  if (status === 404) return " (check the provider's address and channel)";
  return "";
}

/** One attempt, no retries. */
function once(cfg: NotifierConfig, req: HttpRequest & { method: string }): Promise<HttpResponse> {
  const url = req.url;
  const secure = url.protocol === "https:";
  const body = req.body === undefined ? undefined : Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
  const headers: Record<string, string> = { "User-Agent": "gitops-notification-controller", ...(req.headers ?? {}) };
  if (body) headers["Content-Length"] = String(body.length);
  const tlsOpts = secure && cfg.tls ? { ca: cfg.tls.ca, cert: cfg.tls.cert, key: cfg.tls.key } : {};
  return new Promise((resolve, reject) => {
    let done = false;
    const fail = (e: Error) => { if (!done) { done = true; reject(e); } };
    const start = (socket?: net.Socket) => {
      const proxied = cfg.proxy && !secure;
      const options: https.RequestOptions = {
        method: req.method, headers, timeout: cfg.timeoutMs, ...tlsOpts,
        ...(proxied
          ? { host: cfg.proxy!.hostname, port: cfg.proxy!.port || 80, path: url.href }
          : { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port || (secure ? 443 : 80), path: url.pathname + url.search }),
      };
      if (proxied && cfg.proxy!.username) headers["Proxy-Authorization"] = proxyAuth(cfg.proxy!);
      if (socket) {
        options.createConnection = () => tls.connect({ socket, servername: net.isIP(url.hostname) ? undefined : url.hostname, ...tlsOpts });
        options.agent = false;
      }
      const r = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => { size += c.length; if (size < 64 * 1024) chunks.push(c); });
        res.on("end", () => { if (!done) { done = true; resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }); } });
        res.on("error", fail);
      });
      r.on("timeout", () => r.destroy(new Error(`timed out after ${cfg.timeoutMs} ms (spec.timeout)`)));
      r.on("error", fail);
      r.end(body);
    };
    if (!cfg.proxy || !secure) return start();
    // https through the proxy: a CONNECT tunnel, then TLS to the service inside it.
    const p = cfg.proxy;
    const target = `${url.hostname}:${url.port || 443}`;
    const c = http.request({
      host: p.hostname, port: p.port || 80, method: "CONNECT", path: target, timeout: cfg.timeoutMs,
      headers: { Host: target, ...(p.username ? { "Proxy-Authorization": proxyAuth(p) } : {}) },
    });
    c.on("connect", (res, socket) => {
      if (res.statusCode !== 200) { socket.destroy(); return fail(new Error(`proxy ${redact(p)} refused CONNECT ${target}: ${res.statusCode}`)); }
      start(socket);
    });
    c.on("timeout", () => c.destroy(new Error(`proxy CONNECT timed out after ${cfg.timeoutMs} ms`)));
    c.on("error", (e) => fail(new Error(`proxy ${redact(p)}: ${e.message}`)));
    c.end();
  });
}

function proxyAuth(p: URL): string {
  return `Basic ${Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString("base64")}`;
}

/** A JSON POST (or `method`) with extra headers. */
export function postJson(cfg: NotifierConfig, url: URL, payload: unknown, headers: Record<string, string> = {}, observe?: AttemptObserver, method = "POST"): Promise<HttpResponse> {
  return send(cfg, { method, url, body: JSON.stringify(payload), headers: { "Content-Type": "application/json", ...headers } }, observe);
}

export const basicAuth = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;

/** `base` with `path` appended (no double slashes), keeping base's query. */
export function joinUrl(base: URL, path: string): URL {
  const u = new URL(base.href);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  return u;
}
