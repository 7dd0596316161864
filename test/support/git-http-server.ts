// Smart HTTP(S) git server for tests: a Node http/https server on 127.0.0.1 that runs
// git-http-backend as a CGI, with optional basic/bearer auth, stop/start and a request log.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { isolatedGitEnv, makeTempDir, removeDir } from "./git-cli";
import { GitTestResource, trackResource, untrackResource } from "./git-registry";
import { createClientCertificate, createTestCertificates } from "./git-tls";

/** Where Debian's git package installs the CGI. */
export const GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend";

export interface GitHttpServerOptions {
  /** Directory whose bare repos are served (GIT_PROJECT_ROOT), e.g. GitFixture.reposDir. */
  projectRoot: string;
  /** Require HTTP basic auth with these credentials. */
  basicAuth?: { username: string; password: string };
  /** Require `Authorization: Bearer <token>` (if basicAuth is also set, either works). */
  bearerToken?: string;
  /** Serve HTTPS with a freshly made self-signed CA (see caPem/caFile). */
  tls?: boolean;
  /** With tls: refuse TLS handshakes without a client certificate signed by the test CA
   * (see clientCertPem/clientKeyPem). */
  requireClientCert?: boolean;
  /** Address to listen on (default 127.0.0.1); the real node's pods reach the host at its bridge address. */
  host?: string;
}

/**
 * A fault injected into git-upload-pack POSTs whose command is `command` (protocol v2:
 * `ls-refs` or `fetch`; a v0 request with `want` lines counts as `fetch`):
 * `destroy` drops the connection once the request body is read ("server died mid-fetch"),
 * `hang` reads the body and never answers.
 */
export interface UploadPackFault {
  command: "ls-refs" | "fetch";
  action: "destroy" | "hang";
}

/** One request as seen by the server. */
export interface GitHttpRequestLog {
  method: string;
  /** Path below the repo root, e.g. `/repo.git/info/refs` or `/repo.git/git-upload-pack`. */
  path: string;
  query: string;
  status: number;
  /** Authenticated user (basic auth username, or "bearer"). */
  user?: string;
  /** For a git-upload-pack POST: the protocol v2 command (`ls-refs`, `fetch`), or `fetch` for v0. */
  command?: string;
  /** For a git-upload-pack POST: the request's pkt-line payloads (no trailing newline; flush/delim omitted). */
  pktLines?: string[];
  /** The request was answered by an injected fault (see `fault`). */
  faulted?: UploadPackFault["action"];
}

export class GitHttpServer implements GitTestResource {
  /** Port chosen at first start; kept across stop()/start(). */
  port = 0;
  /** CA certificate PEM when tls is on. */
  caPem?: string;
  /** Path of a file with caPem when tls is on. */
  caFile?: string;
  /** Every request since start (or resetRequests()). */
  readonly requests: GitHttpRequestLog[] = [];
  /** Client certificate and key signed by the test CA (tls only), for mutual TLS. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Set to inject a fault into matching git-upload-pack requests; undefined serves normally. */
  fault?: UploadPackFault;
  private readonly dir: string;
  private server!: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly children = new Set<ChildProcess>();
  private listening = false;
  private closed = false;

  private constructor(private readonly opts: GitHttpServerOptions) {
    this.dir = makeTempDir();
  }

  /** Create and start a server on a free loopback port. */
  static async start(opts: GitHttpServerOptions): Promise<GitHttpServer> {
    if (!fs.existsSync(GIT_HTTP_BACKEND)) throw new Error(`${GIT_HTTP_BACKEND} missing (Debian package "git")`);
    const server = new GitHttpServer(opts);
    trackResource(server);
    try {
      const handler = (req: http.IncomingMessage, res: http.ServerResponse) => server.handle(req, res);
      if (opts.tls) {
        const certs = await createTestCertificates(path.join(server.dir, "tls"));
        server.caPem = certs.caPem;
        server.caFile = certs.caFile;
        if (opts.requireClientCert) {
          const client = await createClientCertificate(path.join(server.dir, "tls"));
          server.clientCertPem = client.certPem;
          server.clientKeyPem = client.keyPem;
        }
        const mtls = opts.requireClientCert ? { requestCert: true, rejectUnauthorized: true, ca: certs.caPem } : {};
        server.server = https.createServer({ key: certs.keyPem, cert: certs.certPem, ...mtls }, handler);
      } else {
        server.server = http.createServer(handler);
      }
      server.server.on("connection", (socket: Socket) => {
        server.sockets.add(socket);
        socket.once("close", () => server.sockets.delete(socket));
      });
      await server.start();
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** `http(s)://127.0.0.1:<port>` */
  get baseUrl(): string {
    return `${this.opts.tls ? "https" : "http"}://${this.opts.host ?? "127.0.0.1"}:${this.port}`;
  }

  /** URL of a served repo, e.g. `http://127.0.0.1:1234/repo.git`. */
  url(repo = "repo.git"): string {
    return `${this.baseUrl}/${repo}`;
  }

  /** URL with the basic-auth credentials embedded (`http://user:pass@...`). */
  urlWithCredentials(repo = "repo.git", username = this.opts.basicAuth?.username, password = this.opts.basicAuth?.password): string {
    const u = new URL(this.url(repo));
    u.username = username ?? "";
    u.password = password ?? "";
    return u.href;
  }

  /** Number of requests logged since start or the last resetRequests(). */
  get requestCount(): number {
    return this.requests.length;
  }

  /** Clear the request log. */
  resetRequests(): void {
    this.requests.length = 0;
  }

  /** Whether the server currently accepts connections. */
  get running(): boolean {
    return this.listening;
  }

  /** (Re)start listening; after stop() the same port is reused. */
  async start(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.port, this.opts.host ?? "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.server.unref(); // a forgotten server must not keep mocha alive
    this.listening = true;
  }

  /** Stop listening and drop open connections ("git server down"); start() brings it back. */
  async stop(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const child of this.children) child.kill("SIGKILL");
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Stop the server and remove its temp dir. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.server) await this.stop();
    this.killSync();
  }

  killSync(): void {
    this.closed = true;
    untrackResource(this);
    for (const child of this.children) child.kill("SIGKILL");
    if (this.listening) this.server.close();
    removeDir(this.dir);
  }

  private authenticate(header: string | undefined): string | undefined | false {
    const { basicAuth, bearerToken } = this.opts;
    if (!basicAuth && !bearerToken) return undefined;
    const [scheme, value = ""] = (header ?? "").split(/\s+/, 2);
    if (basicAuth && scheme.toLowerCase() === "basic") {
      const decoded = Buffer.from(value, "base64").toString("utf8");
      const sep = decoded.indexOf(":");
      const [user, pass] = [decoded.slice(0, sep), decoded.slice(sep + 1)];
      if (sep >= 0 && user === basicAuth.username && pass === basicAuth.password) return user;
    }
    if (bearerToken && scheme.toLowerCase() === "bearer" && value === bearerToken) return "bearer";
    return false;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const entry: GitHttpRequestLog = { method: req.method ?? "GET", path: decodeURIComponent(url.pathname), query: url.search.slice(1), status: 0 };
    this.requests.push(entry);
    res.once("finish", () => (entry.status = res.statusCode));
    const user = this.authenticate(req.headers.authorization);
    if (user === false) {
      req.resume();
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"', "Content-Type": "text/plain" });
      res.end("authentication required\n");
      return;
    }
    entry.user = user;
    if (entry.method !== "POST" || !entry.path.endsWith("/git-upload-pack")) {
      this.runBackend(req, res, entry, user);
      return;
    }
    // Read upload-pack requests whole (they are small) to log them and match faults.
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      let body = raw;
      try {
        if (/gzip/i.test(String(req.headers["content-encoding"] ?? ""))) body = zlib.gunzipSync(raw);
      } catch { /* logged as unparsed */ }
      entry.pktLines = parsePktLines(body);
      const cmd = entry.pktLines.find((l) => l.startsWith("command="));
      entry.command = cmd ? cmd.slice("command=".length) : entry.pktLines.some((l) => l.startsWith("want ")) ? "fetch" : undefined;
      const fault = this.fault;
      if (fault && fault.command === entry.command) {
        entry.faulted = fault.action;
        if (fault.action === "destroy") req.socket.destroy();
        return; // "hang": never answer; the client gives up or stop() drops the socket
      }
      this.runBackend(req, res, entry, user, raw);
    });
  }

  /** Runs git-http-backend for one request; `body` is the already read request body, if any. */
  private runBackend(req: http.IncomingMessage, res: http.ServerResponse, entry: GitHttpRequestLog, user?: string, body?: Buffer): void {
    const env: NodeJS.ProcessEnv = isolatedGitEnv(path.join(this.dir, "home"), {
      GATEWAY_INTERFACE: "CGI/1.1",
      SERVER_PROTOCOL: "HTTP/1.1",
      GIT_PROJECT_ROOT: this.opts.projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: entry.path,
      QUERY_STRING: entry.query,
      REQUEST_METHOD: entry.method,
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    });
    if (user) env.REMOTE_USER = user;
    if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
    // A gzip body is passed through untouched; git-http-backend inflates it itself.
    if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
    const protocol = req.headers["git-protocol"];
    if (typeof protocol === "string") env.HTTP_GIT_PROTOCOL = protocol;

    const child = spawn(GIT_HTTP_BACKEND, [], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.children.add(child);
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stdin.on("error", () => undefined);
    if (body) child.stdin.end(body);
    else req.pipe(child.stdin);
    req.on("error", () => child.kill("SIGKILL"));

    let head = Buffer.alloc(0);
    let headersSent = false;
    child.stdout.on("data", (chunk: Buffer) => {
      if (headersSent) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const parsed = parseCgiHead(head);
      if (!parsed) return;
      headersSent = true;
      res.writeHead(parsed.status, parsed.headers);
      if (parsed.body.length > 0) res.write(parsed.body);
    });
    child.on("close", (code) => {
      this.children.delete(child);
      if (!headersSent) {
        if (!res.headersSent) res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(`git-http-backend exited with ${code}: ${stderr}`);
      } else {
        res.end();
      }
    });
  }
}

/** Payloads of a pkt-line stream (flush, delim and response-end packets are skipped). */
export function parsePktLines(buf: Buffer): string[] {
  const out: string[] = [];
  for (let i = 0; i + 4 <= buf.length;) {
    const len = parseInt(buf.subarray(i, i + 4).toString("latin1"), 16);
    if (Number.isNaN(len)) break;
    if (len < 4) { i += 4; continue; }
    out.push(buf.subarray(i + 4, i + len).toString("utf8").replace(/\n$/, ""));
    i += len;
  }
  return out;
}

/** Split CGI output into status, headers and the start of the body (undefined: need more). */
export function parseCgiHead(buf: Buffer): { status: number; headers: Record<string, string>; body: Buffer } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  let end: number;
  let sepLen: number;
  if (crlf >= 0 && (lf < 0 || crlf < lf)) [end, sepLen] = [crlf, 4];
  else if (lf >= 0) [end, sepLen] = [lf, 2];
  else return undefined;
  let status = 200;
  const headers: Record<string, string> = {};
  for (const line of buf.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { status, headers, body: buf.subarray(end + sepLen) };
}
