// HTTP to the API server: authentication and TLS from a KubeConfig (client-node 2.0.1's
// `applyToHTTPSOptions`; it has no applyToFetchOptions), a keep-alive agent, JSON bodies,
// API errors as KubeApiError, client-side QPS/burst limiting, and line-delimited streams.
import type { KubeConfig } from "@kubernetes/client-node";
import * as http from "node:http";
import * as https from "node:https";
import { createInterface } from "node:readline";
import { KubeApiError, KubeStatus, KubeTransportError } from "./kube-errors";
import { TokenBucket } from "./rate-limiter";
import { Clock } from "./clock";

/**
 * Requests sent by every transport of this process, by "<code>|<method>|<host>" as client-go's
 * rest_client_requests_total counts them ("<error>" when no response came): metrics.ts exports it.
 */
export const requestCounts = new Map<string, number>();
function countRequest(code: number | "<error>", method: string, url: URL): void {
  const k = `${code}|${method}|${url.host}`;
  requestCounts.set(k, (requestCounts.get(k) ?? 0) + 1);
}

export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path below the server URL, e.g. `/api/v1/namespaces/default/configmaps`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
  /** Content type of `body`; JSON by default (patches pass their patch type). */
  contentType?: string;
  signal?: AbortSignal;
  /** Whole-request timeout for ordinary requests, idle timeout for streams. */
  timeoutMs?: number;
}

export interface KubeTransportOptions {
  /** --kube-api-qps; 0 disables limiting. Default 50 (Flux's default). */
  qps?: number;
  /** --kube-api-burst. Default 300 (Flux's default). */
  burst?: number;
  userAgent?: string;
  /** Default timeout of ordinary requests. Default 30 s. */
  timeoutMs?: number;
  clock?: Clock;
}

interface Prepared { url: URL; options: https.RequestOptions }

export class KubeTransport {
  readonly #kc: KubeConfig;
  readonly #limiter: TokenBucket;
  readonly #userAgent: string;
  readonly #timeoutMs: number;
  #agent?: http.Agent;

  constructor(kc: KubeConfig, opts: KubeTransportOptions = {}) {
    this.#kc = kc;
    this.#limiter = new TokenBucket({ qps: opts.qps ?? 50, burst: opts.burst ?? 300, clock: opts.clock });
    this.#userAgent = opts.userAgent ?? "gitops-toolkit";
    this.#timeoutMs = opts.timeoutMs ?? 30_000;
  }

  get server(): string {
    const cluster = this.#kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    return cluster.server.replace(/\/+$/, "");
  }

  /** Sends one request and returns the decoded JSON body; throws KubeApiError on >= 400. */
  async request<T>(req: RequestOptions): Promise<T> {
    await this.#limiter.take(req.signal);
    const { url, options } = await this.#prepare(req);
    const payload = encodeBody(req.body);
    // Always frame the body: Node sends DELETE bodies unchunked, which would corrupt a kept-alive connection.
    if (payload !== undefined) (options.headers as http.OutgoingHttpHeaders)["content-length"] = Buffer.byteLength(payload);
    return new Promise<T>((resolve, reject) => {
      const r = send(url, { ...options, timeout: req.timeoutMs ?? this.#timeoutMs, signal: req.signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) => reject(new KubeTransportError(req.method, req.path, e)));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          countRequest(status, req.method, url);
          if (status >= 400) return reject(apiError(req, status, text));
          try { resolve((text ? JSON.parse(text) : undefined) as T); } catch (e) { reject(new KubeTransportError(req.method, req.path, e)); }
        });
      });
      r.on("timeout", () => r.destroy(new Error(`timed out after ${req.timeoutMs ?? this.#timeoutMs} ms`)));
      r.on("error", (e) => {
        countRequest("<error>", req.method, url);
        reject(req.signal?.aborted ? req.signal.reason : new KubeTransportError(req.method, req.path, e));
      });
      r.end(payload);
    });
  }

  /**
   * Opens a streaming GET (a watch) and yields each line decoded as JSON. Ends when the
   * server closes the stream; throws on HTTP errors, idle timeout, or abort (the reason).
   */
  async *stream(req: Omit<RequestOptions, "method" | "body" | "contentType">): AsyncGenerator<unknown> {
    await this.#limiter.take(req.signal);
    const { url, options } = await this.#prepare({ ...req, method: "GET" });
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const r = send(url, { ...options, signal: req.signal }, (res) => { countRequest(res.statusCode ?? 0, "GET", url); resolve(res); });
      if (req.timeoutMs) r.setTimeout(req.timeoutMs, () => r.destroy(new Error(`watch idle for ${req.timeoutMs} ms`)));
      r.on("error", (e) => {
        countRequest("<error>", "GET", url);
        reject(req.signal?.aborted ? req.signal.reason : new KubeTransportError("GET", req.path, e));
      });
      r.end();
    });
    const status = res.statusCode ?? 0;
    if (status >= 400) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw apiError({ method: "GET", path: req.path }, status, Buffer.concat(chunks).toString("utf8"));
    }
    const lines = createInterface({ input: res, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (!line.trim()) continue;
        yield JSON.parse(line) as unknown;
      }
    } catch (e) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw new KubeTransportError("GET", req.path, e);
    } finally {
      lines.close();
      res.destroy();
    }
    if (req.signal?.aborted) throw req.signal.reason;
  }

  async #prepare(req: RequestOptions): Promise<Prepared> {
    const url = new URL(this.server + req.path);
    for (const [k, v] of Object.entries(req.query ?? {})) if (v !== undefined && v !== "") url.searchParams.set(k, String(v));
    const opts: https.RequestOptions = { headers: {} };
    await this.#kc.applyToHTTPSOptions(opts);
    const headers: http.OutgoingHttpHeaders = {
      ...(opts.headers as http.OutgoingHttpHeaders),
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    if (req.body !== undefined) headers["content-type"] = req.contentType ?? "application/json";
    this.#agent ??= makeAgent(url, opts);
    return { url, options: { method: req.method, headers, agent: this.#agent, auth: opts.auth } };
  }
}

/** A keep-alive agent with the TLS material of the kubeconfig (client-node's agent does not keep alive). */
function makeAgent(url: URL, o: https.RequestOptions): http.Agent {
  if (url.protocol === "http:") return new http.Agent({ keepAlive: true });
  return new https.Agent({
    keepAlive: true, ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase,
    rejectUnauthorized: o.rejectUnauthorized, servername: o.servername,
  });
}

function send(url: URL, options: https.RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
  return url.protocol === "http:" ? http.request(url, options, onResponse) : https.request(url, options, onResponse);
}

function encodeBody(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === "string" ? body : JSON.stringify(body);
}

function apiError(req: Pick<RequestOptions, "method" | "path">, statusCode: number, text: string): KubeApiError {
  let status: KubeStatus | undefined;
  try {
    const parsed = JSON.parse(text) as KubeStatus;
    if (parsed && typeof parsed === "object") status = parsed;
  } catch {
    status = { message: text.slice(0, 300) || undefined };
  }
  return new KubeApiError(req.method, req.path, statusCode, status);
}
