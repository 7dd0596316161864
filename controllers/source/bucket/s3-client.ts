// A small S3 client over node:http(s) (the transport of controllers/source/oci/oci-http.ts):
// ListObjectsV2 (paginated, with a prefix), HeadObject and GetObject (streamed to a file), plus
// CreateBucket/PutObject for tests. Requests are signed with SigV4 when credentials are given
// (anonymous otherwise). S3 error documents become S3Error with the service's code and message.
import * as http from "node:http";
import * as https from "node:https";
import { AwsCredentials, EMPTY_SHA256, sha256Hex, signRequest, uriEncode } from "./sigv4";
import { HttpError, TlsMaterial, httpDownload, httpRequest } from "../oci/oci-http";
import { timerMs } from "../../runtime/clock";

export interface S3ClientOptions {
  /** `host[:port]`, or a URL with a scheme (`https://host`), as in spec.endpoint. */
  endpoint: string;
  /** Plain HTTP (spec.insecure) when the endpoint has no scheme. */
  insecure?: boolean;
  bucket: string;
  region?: string;
  credentials?: AwsCredentials;
  tls?: TlsMaterial;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Clock for signatures (tests). */
  now?: () => Date;
}

export interface S3Object { key: string; etag: string; size: number }

export type S3ErrorKind = "no-bucket" | "auth" | "not-found" | "network" | "protocol";

export class S3Error extends Error {
  constructor(message: string, readonly kind: S3ErrorKind, readonly status = 0, readonly code = "", options?: ErrorOptions) {
    super(message, options);
  }
}

export class EndpointError extends Error {}

const xmlDecode = (s: string): string => s.replace(/&(quot|amp|apos|lt|gt|#(\d+)|#x([0-9a-fA-F]+));/g, (_m, name: string, dec?: string, hex?: string) =>
  dec ? String.fromCodePoint(Number(dec)) : hex ? String.fromCodePoint(parseInt(hex, 16))
    : ({ quot: '"', amp: "&", apos: "'", lt: "<", gt: ">" } as Record<string, string>)[name]);

function tag(xml: string, name: string): string | undefined {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? xmlDecode(m[1]) : undefined;
}

/** Quotes around an ETag are transport syntax (minio strips them too). */
export const trimEtag = (etag: string): string => etag.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");

/** Base URL from spec.endpoint and spec.insecure; EndpointError when it cannot be one. */
export function endpointUrl(endpoint: string, insecure = false): URL {
  const e = endpoint.trim();
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(e);
  if (m && !/^https?$/i.test(m[1])) throw new EndpointError(`unsupported scheme '${m[1]}' in endpoint '${endpoint}': use host[:port] (https unless spec.insecure is true)`);
  if (m && m[1].toLowerCase() === "http" && !insecure) throw new EndpointError(`endpoint '${endpoint}' is plain HTTP: set spec.insecure: true to allow it, or use an https endpoint`);
  let u: URL;
  try { u = new URL(m ? e : `${insecure ? "http" : "https"}://${e}`); } catch {
    throw new EndpointError(`invalid endpoint '${endpoint}': expected host[:port], e.g. 's3.amazonaws.com' or 'minio.example.com:9000'`);
  }
  if (u.pathname !== "/" || u.search || u.username) throw new EndpointError(`invalid endpoint '${endpoint}': expected host[:port] without a path, query or credentials`);
  return u;
}

export class S3Client {
  readonly base: URL;
  readonly region: string;
  readonly #virtualHost: boolean;

  constructor(readonly opts: S3ClientOptions) {
    this.base = endpointUrl(opts.endpoint, opts.insecure);
    this.region = opts.region || "us-east-1";
    // AWS wants virtual-hosted-style for DNS-compatible names; everything else takes path-style.
    this.#virtualHost = /(^|\.)amazonaws\.com(\.cn)?$/.test(this.base.hostname) && /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(opts.bucket);
  }

  /** Address of the bucket (or a key in it) as requested. */
  url(key?: string, query: Record<string, string> = {}): URL {
    const u = new URL(this.base.toString());
    if (this.#virtualHost) u.host = `${this.opts.bucket}.${this.base.host}`;
    const bucketPath = this.#virtualHost ? "" : `/${uriEncode(this.opts.bucket)}`;
    u.pathname = key === undefined ? bucketPath || "/" : `${bucketPath}/${uriEncode(key, true)}`;
    // Encoded as SigV4 canonicalises it (URLSearchParams would send spaces as '+').
    u.search = Object.entries(query).map(([k, v]) => `${uriEncode(k)}=${uriEncode(v)}`).join("&");
    return u;
  }

  #headers(method: string, url: URL, payloadHash = EMPTY_SHA256, extra: Record<string, string> = {}): Record<string, string> {
    const headers = { "x-amz-content-sha256": payloadHash, ...extra };
    if (!this.opts.credentials) return headers;
    return signRequest({ method, url, headers, payloadHash, credentials: this.opts.credentials, region: this.region, service: "s3", date: (this.opts.now ?? (() => new Date()))() }).headers;
  }

  #http() { return { tls: this.opts.tls, timeoutMs: this.opts.timeoutMs ?? 60_000, signal: this.opts.signal }; }

  #failure(e: unknown, what: string): S3Error {
    if (e instanceof S3Error) return e;
    if (e instanceof HttpError) {
      let msg = e.message;
      if (e.kind === "tls-plain") msg += "; set spec.insecure: true for a plain-HTTP endpoint";
      return new S3Error(`${what}: ${msg}`, "network", 0, "", { cause: e });
    }
    return new S3Error(`${what}: ${(e as Error).message}`, "network", 0, "", { cause: e });
  }

  /** An S3 error answer as one line with the service's code and message. */
  #errorOf(status: number, body: Buffer | undefined, what: string): S3Error {
    const xml = body?.toString("utf8") ?? "";
    const code = tag(xml, "Code") ?? "";
    const message = tag(xml, "Message") ?? "";
    const detail = code ? `${code}: ${message || "(no message)"}` : `HTTP ${status}${xml && !xml.startsWith("<") ? `: ${xml.slice(0, 200).trim()}` : ""}`;
    if (code === "NoSuchBucket") return new S3Error(`bucket '${this.opts.bucket}' does not exist`, "no-bucket", status, code);
    if (code === "NoSuchKey" || (status === 404 && !code)) return new S3Error(`${what}: ${detail}`, "not-found", status, code);
    if (status === 401 || status === 403) return new S3Error(`${what}: ${detail}`, "auth", status, code);
    return new S3Error(`${what}: ${detail}`, "protocol", status, code);
  }

  /** Every object under `prefix` (ListObjectsV2, following continuation tokens). */
  async listObjects(prefix = "", pageSize = 1000): Promise<S3Object[]> {
    const out: S3Object[] = [];
    let token: string | undefined;
    const what = `listing objects of bucket '${this.opts.bucket}' at ${this.base.origin}`;
    for (let page = 0; ; page++) {
      const query: Record<string, string> = { "list-type": "2", "max-keys": String(pageSize) };
      if (prefix) query.prefix = prefix;
      if (token) query["continuation-token"] = token;
      const url = this.url(undefined, query);
      let res;
      try { res = await httpRequest("GET", url.toString(), { ...this.#http(), headers: this.#headers("GET", url) }); } catch (e) { throw this.#failure(e, what); }
      if (res.status !== 200) throw this.#errorOf(res.status, res.body, what);
      const xml = res.body.toString("utf8");
      if (!xml.includes("<ListBucketResult")) throw new S3Error(`${what}: the answer is not an S3 ListBucketResult (is ${this.base.host} an S3 endpoint?)`, "protocol", res.status);
      for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
        const key = tag(m[1], "Key");
        if (key === undefined) continue;
        out.push({ key, etag: trimEtag(tag(m[1], "ETag") ?? ""), size: Number(tag(m[1], "Size") ?? 0) });
      }
      if (tag(xml, "IsTruncated") !== "true") return out;
      token = tag(xml, "NextContinuationToken");
      if (!token) throw new S3Error(`${what}: truncated listing without a NextContinuationToken`, "protocol", res.status);
      if (page > 100_000) throw new S3Error(`${what}: more than 100000 pages`, "protocol");
    }
  }

  /** The object's ETag, or undefined when there is no such key. */
  async headObject(key: string): Promise<{ etag: string; size: number } | undefined> {
    const url = this.url(key);
    const what = `reading '${key}' of bucket '${this.opts.bucket}'`;
    let res;
    try { res = await httpRequest("HEAD", url.toString(), { ...this.#http(), headers: this.#headers("HEAD", url) }); } catch (e) { throw this.#failure(e, what); }
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.#errorOf(res.status, undefined, what);
    return { etag: trimEtag(String(res.headers.etag ?? "")), size: Number(res.headers["content-length"] ?? 0) };
  }

  /** Downloads an object to `dest`; returns its size and the ETag it was served with. */
  async getObject(key: string, dest: string): Promise<{ size: number; etag: string }> {
    const url = this.url(key);
    const what = `fetching '${key}' from bucket '${this.opts.bucket}'`;
    let res;
    try { res = await httpDownload(url.toString(), dest, { ...this.#http(), headers: this.#headers("GET", url) }); } catch (e) { throw this.#failure(e, what); }
    if (res.status !== 200) throw this.#errorOf(res.status, res.body, what);
    return { size: res.size, etag: trimEtag(String(res.headers.etag ?? "")) };
  }

  /** Buffered GET of a small object (e.g. `.sourceignore`). */
  async getText(key: string): Promise<string> {
    const url = this.url(key);
    const what = `fetching '${key}' from bucket '${this.opts.bucket}'`;
    let res;
    try { res = await httpRequest("GET", url.toString(), { ...this.#http(), headers: this.#headers("GET", url), maxBytes: 1024 * 1024 }); } catch (e) { throw this.#failure(e, what); }
    if (res.status !== 200) throw this.#errorOf(res.status, res.body, what);
    return res.body.toString("utf8");
  }

  /** CreateBucket (tests and tools). */
  createBucket(): Promise<void> { return this.#write("PUT", this.url(), Buffer.alloc(0), `creating bucket '${this.opts.bucket}'`); }

  /** PutObject (tests and tools). */
  putObject(key: string, body: Buffer | string): Promise<void> {
    return this.#write("PUT", this.url(key), Buffer.from(body), `writing '${key}' to bucket '${this.opts.bucket}'`);
  }

  /** DeleteObject (tests and tools). */
  deleteObject(key: string): Promise<void> { return this.#write("DELETE", this.url(key), Buffer.alloc(0), `deleting '${key}'`); }

  async #write(method: "PUT" | "DELETE", url: URL, body: Buffer, what: string): Promise<void> {
    const hash = body.length ? sha256Hex(body) : EMPTY_SHA256;
    // Like the AWS SDKs, content-length is signed only when there is a body.
    const headers = { "content-length": "0", ...this.#headers(method, url, hash, body.length ? { "content-length": String(body.length) } : {}) };
    const request = url.protocol === "https:" ? https.request : http.request;
    const res = await new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const req = request(url, { method, headers, timeout: timerMs(this.opts.timeoutMs ?? 60_000), ...(this.opts.tls ?? {}) }, (r: http.IncomingMessage) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, body: Buffer.concat(chunks) }));
        r.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${url} timed out`)));
      req.on("error", reject);
      req.end(body);
    }).catch((e) => { throw this.#failure(e, what); });
    if (res.status < 200 || res.status >= 300) throw this.#errorOf(res.status, res.body, what);
  }
}
