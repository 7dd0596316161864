// A real S3-compatible server for tests: gofakes3 (built by scripts/setup-tools.sh with a
// wrapper that checks AWS Signature V4 against one key pair with the AWS SDK's signer) on
// 127.0.0.1 with a bolt file in a temp dir, optionally over TLS or mutual TLS. Buckets and
// objects are written over the S3 API with our own client. The access log is kept so tests can
// count requests. Stop/start keep the port and the data (outage tests).
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tool } from "../../cli/tools";
import { S3Client } from "../../controllers/source/bucket/s3-client";
import { findFreePort, makeTempDir, removeDir, waitForPort, stopProcess } from "./git-cli";
import { TestCertificates, createClientCertificate, createTestCertificates } from "./git-tls";
import { onTeardown } from "./teardown";

export interface S3ServerOptions {
  /** Keys every request must be signed with (default: a generated pair). */
  accessKey?: string;
  secretKey?: string;
  /** Serve HTTPS from a fresh test CA; `mutual` also requires a client certificate. */
  tls?: boolean | "mutual";
}

export interface S3Request { method: string; path: string; status: number; code?: string }

export class S3Server {
  readonly requests: S3Request[] = [];
  certs?: TestCertificates;
  /** Client certificate and key signed by the test CA (mutual TLS). */
  client?: { certPem: string; keyPem: string };
  #child?: ChildProcess;
  #log = "";
  #unregister: () => void;

  private constructor(readonly dir: string, readonly port: number, readonly accessKey: string, readonly secretKey: string, readonly opts: S3ServerOptions) {
    this.#unregister = onTeardown(() => this.close());
  }

  static async start(opts: S3ServerOptions = {}): Promise<S3Server> {
    const dir = makeTempDir();
    const s = new S3Server(dir, await findFreePort(), opts.accessKey ?? `AK${Math.random().toString(36).slice(2, 10).toUpperCase()}`,
      opts.secretKey ?? `sk-${Math.random().toString(36).slice(2)}`, opts);
    if (opts.tls) s.certs = await createTestCertificates(path.join(dir, "certs"));
    if (opts.tls === "mutual") s.client = await createClientCertificate(path.join(dir, "certs"));
    await s.start();
    return s;
  }

  /** `127.0.0.1:<port>`: what spec.endpoint takes. */
  get endpoint(): string { return `127.0.0.1:${this.port}`; }
  get caPem(): string | undefined { return this.certs?.caPem; }

  /** An S3 client with the server's keys (and CA / client certificate in TLS modes). */
  s3(bucket: string): S3Client {
    return new S3Client({
      endpoint: this.endpoint, insecure: !this.opts.tls, bucket, credentials: { accessKeyId: this.accessKey, secretAccessKey: this.secretKey },
      tls: this.certs ? { ca: this.certs.caPem, cert: this.client?.certPem, key: this.client?.keyPem } : undefined, timeoutMs: 10000,
    });
  }

  async createBucket(bucket: string): Promise<void> { await this.s3(bucket).createBucket(); }

  /** PutObject for each key. */
  async put(bucket: string, objects: Record<string, string | Buffer>): Promise<void> {
    const c = this.s3(bucket);
    for (const [k, v] of Object.entries(objects)) await c.putObject(k, v);
  }

  async delete(bucket: string, key: string): Promise<void> { await this.s3(bucket).deleteObject(key); }

  /** Requests whose path (with query) matches, e.g. object GETs: `count("GET", /^\/b\/[^?]/)`. */
  count(method: string, re: RegExp): number { return this.requests.filter((r) => r.method === method && re.test(r.path)).length; }

  /** Starts (or restarts) the server on the same port and data. */
  async start(): Promise<void> {
    if (this.#child) return;
    const args = ["-addr", this.endpoint, "-db", path.join(this.dir, "s3.db"), "-access-key", this.accessKey, "-secret-key", this.secretKey];
    if (this.certs) {
      const c = path.join(this.dir, "certs");
      args.push("-tls-cert", path.join(c, "server.crt"), "-tls-key", path.join(c, "server.key"));
      if (this.client) args.push("-client-ca", path.join(c, "ca.crt"));
    }
    const child = spawn(tool("gofakes3"), args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    let stderr = "";
    child.stdout!.on("data", (b: Buffer) => this.#parse(b.toString()));
    child.stderr!.on("data", (b: Buffer) => { stderr = (stderr + b.toString()).slice(-4000); });
    let exited: string | undefined;
    child.once("exit", (code) => { exited = `gofakes3 exited with ${code}: ${stderr}`; if (this.#child === child) this.#child = undefined; });
    await waitForPort(this.port, 15000, () => exited);
  }

  /** Stops the process; port and data stay for start(). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await stopProcess(child);
  }

  async close(): Promise<void> {
    this.#unregister();
    await this.stop();
    removeDir(this.dir);
  }

  #parse(chunk: string): void {
    const lines = (this.#log + chunk).split("\n");
    this.#log = lines.pop() ?? "";
    for (const l of lines) {
      const m = /^ACCESS (\S+) (\S+) (\d{3})(?: (\S+))?$/.exec(l);
      if (m) this.requests.push({ method: m[1], path: decodeURIComponent(m[2]), status: Number(m[3]), code: m[4] });
    }
  }
}
