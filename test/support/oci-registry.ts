// A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1
// with a temp storage dir, optionally with htpasswd (basic) auth, token auth (a small token
// server in this process signs the JWTs the registry checks against a test CA; its realm is
// `localhost`, as clients refuse loopback IP realms) or TLS.
// Artifacts are pushed with the real upstream `flux` CLI. The registry's access log is kept
// so tests can count pulls. Stop/start keep port and storage (outage tests).
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { createPrivateKey, randomBytes, sign, X509Certificate } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { tool } from "../../cli/tools";
import { findFreePort, makeTempDir, removeDir, runChecked, waitForPort, stopProcess } from "./git-cli";
import { TestCertificates, createTestCertificates } from "./git-tls";
import { onTeardown } from "./teardown";

export const DOCKER_REGISTRY = "/usr/bin/docker-registry";

export interface OciRegistryOptions {
  /** Basic auth (htpasswd, bcrypt) with these credentials. */
  basicAuth?: { username: string; password: string };
  /** Bearer token auth: a token server that accepts these credentials. */
  tokenAuth?: { username: string; password: string };
  /** Serve HTTPS with a certificate from a fresh test CA (`caPem`). */
  tls?: boolean;
}

export interface RegistryRequest { method: string; path: string; status: number }

export class OciRegistry {
  readonly dir: string;
  readonly port: number;
  readonly certs?: TestCertificates;
  readonly requests: RegistryRequest[] = [];
  #child?: ChildProcess;
  #log = "";
  #tokenServer?: http.Server;
  #unregister: () => void;

  private constructor(dir: string, port: number, readonly opts: OciRegistryOptions, certs?: TestCertificates) {
    this.dir = dir;
    this.port = port;
    this.certs = certs;
    this.#unregister = onTeardown(() => this.close());
  }

  static async start(opts: OciRegistryOptions = {}): Promise<OciRegistry> {
    if (!fs.existsSync(DOCKER_REGISTRY)) throw new Error(`${DOCKER_REGISTRY} is missing: apt-get install -y docker-registry`);
    const dir = makeTempDir();
    const certs = opts.tls || opts.tokenAuth ? await createTestCertificates(path.join(dir, "certs")) : undefined;
    const reg = new OciRegistry(dir, await findFreePort(), opts, certs);
    if (opts.tokenAuth) await reg.#startTokenServer(opts.tokenAuth);
    reg.#writeConfig();
    await reg.start();
    return reg;
  }

  /** `127.0.0.1:<port>` */
  get host(): string { return `127.0.0.1:${this.port}`; }
  /** The CA that signed the registry's certificate (TLS mode). */
  get caPem(): string | undefined { return this.opts.tls ? this.certs?.caPem : undefined; }
  /** `oci://127.0.0.1:<port>/<repo>` */
  url(repo: string): string { return `oci://${this.host}/${repo}`; }

  /** Starts (or restarts) the registry process on the same port and storage. */
  async start(): Promise<void> {
    if (this.#child) return;
    this.#log = "";
    const child = spawn(DOCKER_REGISTRY, ["serve", path.join(this.dir, "config.yml")], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const onData = (b: Buffer) => { this.#log += b.toString(); this.#parseAccessLog(); };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    let exited: string | undefined;
    child.once("exit", (code) => { exited = `docker-registry exited with ${code}: ${this.#log.slice(-2000)}`; if (this.#child === child) this.#child = undefined; });
    await waitForPort(this.port, 15000, () => exited);
  }

  /** Stops the process (storage and port are kept for start()). */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#child = undefined;
    await stopProcess(child);
  }

  async close(): Promise<void> {
    this.#unregister();
    await this.stop();
    await new Promise<void>((r) => (this.#tokenServer ? this.#tokenServer.close(() => r()) : r()));
    removeDir(this.dir);
  }

  /** `flux push artifact oci://host/<repoTag> --path=<dir>`; returns the manifest digest. */
  async push(repoTag: string, dir: string, meta: { source?: string; revision?: string; extra?: string[] } = {}): Promise<string> {
    const out = await this.#flux(["push", "artifact", `oci://${this.host}/${repoTag}`, `--path=${dir}`,
      `--source=${meta.source ?? "https://example.invalid/repo.git"}`, `--revision=${meta.revision ?? "main@sha1:0000000000000000000000000000000000000000"}`,
      "--output=json", ...(meta.extra ?? [])]);
    return (JSON.parse(out) as { digest: string }).digest;
  }

  /** `flux tag artifact oci://host/<repoTag> --tag <tag>` */
  async tag(repoTag: string, tag: string): Promise<void> {
    await this.#flux(["tag", "artifact", `oci://${this.host}/${repoTag}`, `--tag=${tag}`]);
  }

  /** `helm push <chart.tgz> oci://host/<repo>` with the real helm. */
  async helmPush(chartTgz: string, repo: string): Promise<void> {
    const home = path.join(this.dir, "helm-home");
    const env = { ...process.env, HELM_CONFIG_HOME: home, HELM_CACHE_HOME: home, HELM_DATA_HOME: home, SSL_CERT_FILE: this.certs?.caFile };
    const creds = this.opts.basicAuth ?? this.opts.tokenAuth;
    if (creds) await runChecked(tool("helm"), ["registry", "login", this.host, "-u", creds.username, "--password-stdin", ...(this.opts.tls ? [] : ["--insecure"])], { env, input: creds.password });
    await runChecked(tool("helm"), ["push", chartTgz, `oci://${this.host}/${repo}`, ...(this.opts.tls ? [] : ["--plain-http"])], { env, timeoutMs: 60000 });
  }

  /** Requests whose path matches, e.g. pulls of blobs: `count("GET", /\/blobs\//)`. */
  count(method: string, pathRe: RegExp): number {
    return this.requests.filter((r) => r.method === method && pathRe.test(r.path)).length;
  }

  async #flux(args: string[]): Promise<string> {
    const creds = this.opts.basicAuth ?? this.opts.tokenAuth;
    const env = { ...process.env, HOME: path.join(this.dir, "flux-home"), SSL_CERT_FILE: this.certs?.caFile };
    return runChecked(tool("flux"), [...args, ...(creds ? [`--creds=${creds.username}:${creds.password}`] : [])], { env, timeoutMs: 60000 });
  }

  #parseAccessLog(): void {
    const lines = this.#log.split("\n");
    this.#log = lines.pop() ?? "";
    for (const l of lines) {
      const m = /"(GET|HEAD|PUT|POST|PATCH|DELETE) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(l);
      if (m) this.requests.push({ method: m[1], path: m[2], status: Number(m[3]) });
    }
  }

  #writeConfig(): void {
    const lines = [
      "version: 0.1",
      "log:", "  level: error", "  accesslog:", "    disabled: false",
      "storage:", `  filesystem:`, `    rootdirectory: ${path.join(this.dir, "data")}`, "  delete:", "    enabled: true",
      "http:", `  addr: 127.0.0.1:${this.port}`, `  secret: ${randomBytes(16).toString("hex")}`,
    ];
    if (this.opts.tls) lines.push("  tls:", `    certificate: ${path.join(this.dir, "certs", "server.crt")}`, `    key: ${path.join(this.dir, "certs", "server.key")}`);
    if (this.opts.basicAuth) {
      const { username, password } = this.opts.basicAuth;
      fs.writeFileSync(path.join(this.dir, "htpasswd"), `${username}:${bcrypt(password)}\n`);
      lines.push("auth:", "  htpasswd:", "    realm: test-registry", `    path: ${path.join(this.dir, "htpasswd")}`);
    }
    if (this.opts.tokenAuth) {
      const a = this.#tokenServer!.address() as import("node:net").AddressInfo;
      lines.push("auth:", "  token:", `    realm: http://localhost:${a.port}/token`, "    service: test-registry", "    issuer: test-issuer",
        `    rootcertbundle: ${this.certs!.caFile}`);
    }
    fs.writeFileSync(path.join(this.dir, "config.yml"), lines.join("\n") + "\n");
  }

  /** Issues ES256 JWTs with an x5c chain the registry verifies against the test CA. */
  async #startTokenServer(creds: { username: string; password: string }): Promise<void> {
    const key = createPrivateKey(this.certs!.keyPem);
    const leaf = new X509Certificate(this.certs!.certPem).raw.toString("base64");
    const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");
    this.#tokenServer = http.createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://x");
      const expected = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString("base64")}`;
      if (req.headers.authorization !== expected) { res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}'); return; }
      const access = u.searchParams.getAll("scope").flatMap((s) => s.split(" ")).map((s) => {
        const [type, name, actions] = s.split(":");
        return { type, name, actions: (actions ?? "").split(",").filter(Boolean) };
      });
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(JSON.stringify({ typ: "JWT", alg: "ES256", x5c: [leaf] }));
      const claims = b64url(JSON.stringify({ iss: "test-issuer", sub: creds.username, aud: u.searchParams.get("service"), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString("hex"), access }));
      const sig = sign("sha256", Buffer.from(`${header}.${claims}`), { key, dsaEncoding: "ieee-p1363" });
      const token = `${header}.${claims}.${b64url(sig)}`;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
    });
    await new Promise<void>((r) => this.#tokenServer!.listen(0, "127.0.0.1", r));
  }
}

/** A bcrypt hash (what the registry's htpasswd accepts) from libxcrypt via perl's crypt(). */
function bcrypt(password: string): string {
  const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const salt = Array.from(randomBytes(22), (b) => alphabet[b % 64]).join("");
  // The 22nd salt character only carries 2 bits; '.', 'O', 'e', 'u' are the canonical ones.
  const canonical = salt.slice(0, 21) + ".Oeu"[alphabet.indexOf(salt[21]) >> 4];
  const hash = execFileSync("perl", ["-e", "print crypt($ARGV[0], $ARGV[1])", password, `$2b$10$${canonical}`], { encoding: "utf8" });
  if (!hash.startsWith("$2b$")) throw new Error("perl crypt() has no bcrypt support (libxcrypt) on this machine");
  return hash;
}

// ---- Helpers for source objects of any kind (OCIRepository, HelmRepository, HelmChart) ----

type SourceLike = { metadata: { generation?: number }; status?: { artifact?: { revision: string }; conditions?: Array<{ type: string; status: string; reason: string; message: string }>; lastHandledReconcileAt?: string } };
type Res = { group: string; version: string; plural: string; kind: string };
type Client = import("../../controllers/runtime/kube").KubeClient;

/** Creates a source object labelled for the given test controllers. */
export async function createSource<T>(ctl: { client: Client; labels: Record<string, string> }, res: Res, namespace: string, name: string, spec: Record<string, unknown>): Promise<T> {
  return ctl.client.create(res, {
    apiVersion: `${res.group}/${res.version}`, kind: res.kind, metadata: { name, namespace, labels: ctl.labels }, spec: { interval: "1m", ...spec },
  } as never) as Promise<T>;
}

export function conditionOf(obj: SourceLike | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** Polls until Ready has `ready` (and reason, message, revision, handled request when given). */
export async function waitForSource<T extends SourceLike>(client: Client, res: Res, namespace: string, name: string,
  want: { ready: "True" | "False"; reason?: string; message?: RegExp; revision?: string | RegExp; handled?: string }, timeoutMs = 30000): Promise<T> {
  const { eventually } = await import("./cluster");
  let last: T | undefined;
  return eventually(async () => {
    last = await client.get<T & import("../../controllers/runtime/keys").KubeObject>(res, { namespace, name }) as T | undefined;
    const ready = conditionOf(last, "Ready");
    if (ready?.status !== want.ready) return undefined;
    if (want.reason && ready.reason !== want.reason) return undefined;
    if (want.message && !want.message.test(ready.message)) return undefined;
    if (want.handled && last?.status?.lastHandledReconcileAt !== want.handled) return undefined;
    const rev = last?.status?.artifact?.revision ?? "";
    if (want.revision && !(typeof want.revision === "string" ? rev === want.revision : want.revision.test(rev))) return undefined;
    return last;
  }, { timeoutMs, what: `${res.kind} ${namespace}/${name} Ready=${want.ready}${want.reason ? ` (${want.reason})` : ""}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; last conditions: ${JSON.stringify(last?.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}`); });
}

/** Asks for a reconcile now (what `flux reconcile` does). */
export async function requestReconcile(client: Client, res: Res, namespace: string, name: string, value: string): Promise<void> {
  await client.patch(res, { namespace, name }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": value } } });
}
