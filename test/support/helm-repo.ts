// A Helm chart repository for tests: charts made with the real helm (`helm create`, `helm
// package`, `helm repo index`) served as static files by a small Node HTTP(S) server on
// 127.0.0.1, optionally behind basic auth. Requests are logged; stop/start keep the port.
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { tool } from "../../cli/tools";
import { makeTempDir, removeDir, runChecked } from "./git-cli";
import { TestCertificates, createTestCertificates } from "./git-tls";
import { onTeardown } from "./teardown";

const helmEnv = (home: string) => ({ ...process.env, HELM_CONFIG_HOME: home, HELM_CACHE_HOME: home, HELM_DATA_HOME: home });

/** `helm create <name>` in `parent`, with Chart.yaml's version set; returns the chart dir. */
export async function helmCreate(parent: string, name: string, version: string, values?: string): Promise<string> {
  fs.mkdirSync(parent, { recursive: true });
  await runChecked(tool("helm"), ["create", name], { cwd: parent, env: helmEnv(path.join(parent, ".helm")) });
  fs.rmSync(path.join(parent, ".helm"), { recursive: true, force: true });
  const dir = path.join(parent, name);
  const chartYaml = path.join(dir, "Chart.yaml");
  fs.writeFileSync(chartYaml, fs.readFileSync(chartYaml, "utf8").replace(/^version: .*$/m, `version: ${version}`));
  if (values !== undefined) fs.writeFileSync(path.join(dir, "values.yaml"), values);
  return dir;
}

/** `helm package <dir> -d <out>`; returns the archive path. */
export async function helmPackage(dir: string, out: string): Promise<string> {
  const stdout = await runChecked(tool("helm"), ["package", dir, "--destination", out], { env: helmEnv(path.join(out, ".helm")) });
  return /saved it to: (.+\.tgz)/.exec(stdout)![1].trim();
}

/** `host`: address to listen on (default 127.0.0.1), e.g. the real node's bridge address for pods. */
export interface HelmRepoOptions { basicAuth?: { username: string; password: string }; tls?: boolean; host?: string }

export class HelmRepoServer {
  readonly dir: string;
  readonly requests: Array<{ method: string; path: string; status: number }> = [];
  certs?: TestCertificates;
  #server?: http.Server;
  #port = 0;
  #unregister: () => void;

  private constructor(dir: string, readonly opts: HelmRepoOptions) {
    this.dir = dir;
    this.#unregister = onTeardown(() => this.close());
  }

  static async start(opts: HelmRepoOptions = {}): Promise<HelmRepoServer> {
    const s = new HelmRepoServer(makeTempDir(), opts);
    fs.mkdirSync(path.join(s.dir, "www"), { recursive: true });
    if (opts.tls) s.certs = await createTestCertificates(path.join(s.dir, "certs"));
    await s.start();
    return s;
  }

  /** Repository URL (index at `<url>/index.yaml`). */
  get url(): string { return `${this.opts.tls ? "https" : "http"}://${this.opts.host ?? "127.0.0.1"}:${this.#port}`; }
  get www(): string { return path.join(this.dir, "www"); }

  /** Creates, packages and indexes a chart version; returns the archive path. */
  async addChart(name: string, version: string, values?: string): Promise<string> {
    const src = await helmCreate(path.join(this.dir, "src", `${name}-${version}`), name, version, values);
    const tgz = await helmPackage(src, this.www);
    await this.reindex();
    return tgz;
  }

  /** `helm repo index` over everything served (relative chart URLs). */
  async reindex(): Promise<void> {
    await runChecked(tool("helm"), ["repo", "index", this.www], { env: helmEnv(path.join(this.dir, ".helm")) });
  }

  /** Writes a file into the served directory (e.g. a broken index.yaml). */
  write(rel: string, body: string | Buffer): void { fs.writeFileSync(path.join(this.www, rel), body); }

  count(method: string, re: RegExp): number { return this.requests.filter((r) => r.method === method && re.test(r.path)).length; }

  async start(): Promise<void> {
    if (this.#server) return;
    const handler: http.RequestListener = (req, res) => {
      const done = (status: number, body?: Buffer | string, headers: http.OutgoingHttpHeaders = {}) => {
        this.requests.push({ method: req.method ?? "", path: req.url ?? "", status });
        res.writeHead(status, headers).end(req.method === "HEAD" ? undefined : body);
      };
      const a = this.opts.basicAuth;
      if (a && req.headers.authorization !== `Basic ${Buffer.from(`${a.username}:${a.password}`).toString("base64")}`) {
        done(401, "unauthorized\n", { "www-authenticate": 'Basic realm="charts"' });
        return;
      }
      const rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
      const file = path.join(this.www, rel);
      if (rel.split("/").includes("..") || !fs.existsSync(file) || !fs.statSync(file).isFile()) { done(404, "not found\n"); return; }
      done(200, fs.readFileSync(file), { "content-type": rel.endsWith(".yaml") ? "text/yaml" : "application/gzip" });
    };
    const server = this.opts.tls ? https.createServer({ cert: this.certs!.certPem, key: this.certs!.keyPem }, handler) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.opts.host ?? "127.0.0.1", () => resolve());
    });
    this.#port = (server.address() as import("node:net").AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  async close(): Promise<void> {
    this.#unregister();
    await this.stop();
    removeDir(this.dir);
  }
}
