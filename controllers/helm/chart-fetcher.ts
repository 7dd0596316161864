// Downloads a chart artifact (.tgz) from the source-controller's artifact server and
// verifies its digest before helm ever sees it. Verified archives are cached on disk by
// digest: an unchanged chart is fetched once.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";

export class ChartNotFoundError extends Error {
  override readonly name = "ChartNotFoundError";
}

export class ChartFetchError extends Error {
  override readonly name = "ChartFetchError";
}

export interface ChartArtifact { url: string; digest?: string; revision: string }

export class ChartFetcher {
  readonly #dir: string;
  readonly #hostOverride?: string;
  readonly #agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  constructor(dir: string, hostOverride?: string) {
    this.#dir = dir;
    this.#hostOverride = hostOverride;
    fs.mkdirSync(dir, { recursive: true });
  }

  /** Path of the verified chart archive on local disk. */
  async fetch(a: ChartArtifact, signal?: AbortSignal): Promise<string> {
    const name = a.digest ? `${a.digest.replace(":", "-")}.tgz` : undefined;
    if (name && fs.existsSync(path.join(this.#dir, name))) return path.join(this.#dir, name);
    const body = await this.#get(a.url, signal);
    if (a.digest) verifyDigest(body, a.digest);
    const file = path.join(this.#dir, name ?? `nodigest-${createHash("sha256").update(body).digest("hex")}.tgz`);
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, file);
    return file;
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #get(raw: string, signal?: AbortSignal): Promise<Buffer> {
    const url = new URL(raw);
    if (this.#hostOverride) url.host = this.#hostOverride;
    const mod = url.protocol === "https:" ? https : http;
    const agent = url.protocol === "https:" ? this.#agents.https : this.#agents.http;
    return new Promise((resolve, reject) => {
      const req = mod.get(url, { agent, signal, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          if (res.statusCode === 404) return reject(new ChartNotFoundError(`artifact not found: ${url.href}`));
          if ((res.statusCode ?? 0) >= 300) return reject(new ChartFetchError(`failed to download artifact from ${url.href}, status: ${res.statusCode}`));
          resolve(Buffer.concat(chunks));
        });
      });
      req.on("timeout", () => req.destroy(new ChartFetchError(`timeout downloading ${url.href}`)));
      req.on("error", reject);
    });
  }
}

function verifyDigest(body: Buffer, digest: string): void {
  const i = digest.indexOf(":");
  const algo = digest.slice(0, i);
  if (!["sha256", "sha384", "sha512", "sha1"].includes(algo)) throw new ChartFetchError(`failed to verify artifact: unsupported digest algorithm '${algo}'`);
  const got = `${algo}:${createHash(algo).update(body).digest("hex")}`;
  if (got !== digest) throw new ChartFetchError(`failed to verify artifact: computed digest doesn't match '${digest}'`);
}
