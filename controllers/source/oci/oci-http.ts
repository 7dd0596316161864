// HTTP(S) for registries and Helm repositories, on node:http(s) rather than global fetch so
// each object can bring its own CA and client certificate. Bodies are buffered up to a limit
// or streamed to a file with their sha256; redirects are followed (credentials stay on the
// original host); network and TLS failures become one line that says what to check.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { timerMs } from "../../runtime/clock";

export interface TlsMaterial { ca?: string; cert?: string; key?: string }

export interface HttpOptions {
  headers?: Record<string, string>;
  tls?: TlsMaterial;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Buffered bodies larger than this fail (default 64 MiB). */
  maxBytes?: number;
}

export interface HttpResponse { status: number; headers: http.IncomingHttpHeaders; body: Buffer; url: string }
export interface HttpDownload { status: number; headers: http.IncomingHttpHeaders; digest: string; size: number; body?: Buffer }

export type HttpErrorKind = "refused" | "dns" | "timeout" | "tls-untrusted" | "tls-plain" | "tls" | "too-large" | "other";

export class HttpError extends Error {
  constructor(message: string, readonly kind: HttpErrorKind, options?: ErrorOptions) { super(message, options); }
}

const MAX_REDIRECTS = 5;

/** One request with the body buffered in memory. */
export async function httpRequest(method: "GET" | "HEAD", url: string, opts: HttpOptions): Promise<HttpResponse> {
  const limit = opts.maxBytes ?? 64 * 1024 * 1024;
  const chunks: Buffer[] = [];
  let size = 0;
  const res = await send(method, url, opts, (chunk) => {
    size += chunk.length;
    if (size > limit) throw new HttpError(`response from ${url} exceeds ${limit} bytes`, "too-large");
    chunks.push(chunk);
  });
  return { status: res.status, headers: res.headers, body: Buffer.concat(chunks), url: res.url };
}

/** GET streamed to `dest` when the answer is 2xx (an error body is kept in memory instead). */
export async function httpDownload(url: string, dest: string, opts: HttpOptions): Promise<HttpDownload> {
  const hash = createHash("sha256");
  let size = 0;
  let out: fs.WriteStream | undefined;
  const errorBody: Buffer[] = [];
  const res = await send("GET", url, opts, (chunk, status) => {
    if (status >= 300) { if (size < 65536) errorBody.push(chunk); size += chunk.length; return; }
    out ??= fs.createWriteStream(dest, { mode: 0o600 });
    hash.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) return new Promise<void>((r) => out!.once("drain", () => r()));
  }).catch((e) => { out?.destroy(); throw e; });
  if (res.status >= 300) return { status: res.status, headers: res.headers, digest: "", size, body: Buffer.concat(errorBody) };
  const stream = out ?? fs.createWriteStream(dest, { mode: 0o600 });
  await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { status: res.status, headers: res.headers, digest: `sha256:${hash.digest("hex")}`, size };
}

type OnChunk = (chunk: Buffer, status: number) => void | Promise<void>;

async function send(method: string, url: string, opts: HttpOptions, onChunk: OnChunk): Promise<{ status: number; headers: http.IncomingHttpHeaders; url: string }> {
  let current = url;
  let headers = { ...opts.headers };
  for (let hop = 0; ; hop++) {
    const res = await once(method, current, headers, opts, onChunk);
    if (res.location === undefined) return { ...res, url: current };
    if (hop >= MAX_REDIRECTS) throw new HttpError(`too many redirects from ${url}`, "other");
    const next = new URL(res.location, current);
    // Credentials belong to the host they were given for (blob storage redirects elsewhere).
    if (next.host !== new URL(current).host) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
    current = next.toString();
  }
}

function once(method: string, url: string, headers: Record<string, string>, opts: HttpOptions, onChunk: OnChunk):
  Promise<{ status: number; headers: http.IncomingHttpHeaders; location?: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const isHttps = u.protocol === "https:";
    const reqOpts: https.RequestOptions = {
      method, headers: { "user-agent": "gitops-source-controller", ...headers }, timeout: timerMs(opts.timeoutMs), signal: opts.signal,
      ...(isHttps && opts.tls ? { ca: opts.tls.ca || undefined, cert: opts.tls.cert || undefined, key: opts.tls.key || undefined } : {}),
    };
    const req = (isHttps ? https : http).request(u, reqOpts, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        resolve({ status, headers: res.headers, location: res.headers.location });
        return;
      }
      const deadline = setTimeout(() => req.destroy(new HttpError(`reading ${url} timed out after ${opts.timeoutMs / 1000}s`, "timeout")), timerMs(opts.timeoutMs));
      (async () => {
        for await (const chunk of res) await onChunk(chunk as Buffer, status);
      })().then(() => { clearTimeout(deadline); resolve({ status, headers: res.headers }); },
        (e) => { clearTimeout(deadline); req.destroy(); reject(e instanceof HttpError ? e : explain(e, url, opts.timeoutMs)); });
    });
    req.on("timeout", () => req.destroy(new HttpError(`${method} ${url} timed out after ${opts.timeoutMs / 1000}s`, "timeout")));
    req.on("error", (e) => reject(e instanceof HttpError ? e : explain(e, url, opts.timeoutMs)));
    req.end();
  });
}

/** A network or TLS failure as one actionable line. */
function explain(e: unknown, url: string, timeoutMs: number): HttpError {
  const err = e as NodeJS.ErrnoException & { reason?: string };
  const host = (() => { try { return new URL(url).host; } catch { return url; } })();
  const code = err.code ?? "";
  const at = `${url.split("?")[0]}`;
  if (code === "ECONNREFUSED") return new HttpError(`Get "${at}": connection refused (is the server running at ${host}?)`, "refused", { cause: e });
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return new HttpError(`Get "${at}": no such host '${u(host)}'`, "dns", { cause: e });
  if (code === "ETIMEDOUT" || err.name === "AbortError") return new HttpError(`Get "${at}": timed out after ${timeoutMs / 1000}s`, "timeout", { cause: e });
  if (/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|CERT_UNTRUSTED/.test(code)) {
    return new HttpError(`Get "${at}": x509: certificate signed by unknown authority (put the CA certificate as 'ca.crt' in the Secret of spec.certSecretRef)`, "tls-untrusted", { cause: e });
  }
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") return new HttpError(`Get "${at}": x509: certificate is not valid for ${host}: ${err.reason ?? err.message}`, "tls", { cause: e });
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || code === "EPROTO" || /wrong version number|packet length too long/i.test(err.message)) {
    return new HttpError(`Get "${at}": TLS handshake failed: the server does not speak HTTPS (a plain-HTTP server?)`, "tls-plain", { cause: e });
  }
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code.includes("CERT")) return new HttpError(`Get "${at}": TLS error: ${err.message}`, "tls", { cause: e });
  if (code === "ECONNRESET") return new HttpError(`Get "${at}": connection reset by ${host}`, "refused", { cause: e });
  return new HttpError(`Get "${at}": ${err.message || String(e)}`, "other", { cause: e });
}

function u(host: string): string { return host.replace(/:\d+$/, ""); }

/** Basic authorization header value. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
