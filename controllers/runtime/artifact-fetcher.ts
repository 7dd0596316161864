// Fetches a source artifact over HTTP, verifies its digest and reads the tarball in memory.
// Results are cached by URL and digest (a verified digest names the content, so a hit is
// exact): many Kustomizations built from one GitRepository download and unpack it once.
// Concurrent fetches of one artifact share a single download.
import { createHash } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import { FileTree, readTar } from "./tar-reader";

const gunzip = promisify(zlib.gunzip);

/** The artifact URL answered 404: the source has not stored it (yet). */
export class ArtifactNotFoundError extends Error {
  override readonly name = "ArtifactNotFoundError";
}

export class ArtifactFetchError extends Error {
  override readonly name = "ArtifactFetchError";
}

export interface ArtifactRef { url: string; digest?: string; revision?: string }

export interface FetcherOptions {
  /** Cache budget in bytes of unpacked files; default 256 MiB. */
  maxCacheBytes?: number;
  /** Retries of failed downloads (not of 404 or a bad digest); default 3. */
  retries?: number;
  /** Replaces the host of artifact URLs (SOURCE_CONTROLLER_LOCALHOST). */
  hostOverride?: string;
  timeoutMs?: number;
}

interface Cached { files: FileTree; bytes: number }

export class ArtifactFetcher {
  readonly #opts: FetcherOptions;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<Cached>>();
  readonly #agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  #bytes = 0;

  constructor(opts: FetcherOptions = {}) { this.#opts = opts; }

  async fetch(ref: ArtifactRef, signal?: AbortSignal): Promise<FileTree> {
    const key = `${ref.url}|${ref.digest ?? ""}`;
    const hit = this.#cache.get(key);
    if (hit && ref.digest) {
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.files;
    }
    let p = this.#inflight.get(key);
    if (!p) {
      p = this.#download(ref, signal).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, p);
    }
    const got = await p;
    if (ref.digest) this.#store(key, got);
    return got.files;
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  #store(key: string, c: Cached): void {
    if (this.#cache.has(key)) return;
    const max = this.#opts.maxCacheBytes ?? 256 * 1024 * 1024;
    if (c.bytes > max) return;
    this.#cache.set(key, c);
    this.#bytes += c.bytes;
    for (const [k, v] of this.#cache) {
      if (this.#bytes <= max) break;
      this.#cache.delete(k);
      this.#bytes -= v.bytes;
    }
  }

  async #download(ref: ArtifactRef, signal?: AbortSignal): Promise<Cached> {
    const url = new URL(ref.url);
    if (this.#opts.hostOverride) url.host = this.#opts.hostOverride;
    let body: Buffer | undefined;
    let lastErr: unknown;
    for (let attempt = 0; attempt <= (this.#opts.retries ?? 3) && !body; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      try {
        body = await this.#get(url, signal);
      } catch (e) {
        if (e instanceof ArtifactNotFoundError || signal?.aborted) throw e;
        lastErr = e;
      }
    }
    if (!body) throw new ArtifactFetchError(`failed to download artifact, error: ${(lastErr as Error).message}`, { cause: lastErr });
    if (ref.digest) verifyDigest(body, ref.digest);
    let tar: Buffer;
    try {
      tar = await gunzip(body);
    } catch (e) {
      throw new ArtifactFetchError(`failed to untar artifact, error: ${(e as Error).message}`, { cause: e });
    }
    const files = (() => {
      try { return readTar(tar); } catch (e) { throw new ArtifactFetchError(`failed to untar artifact, error: ${(e as Error).message}`, { cause: e }); }
    })();
    let bytes = 0;
    for (const [k, v] of files) bytes += v.length + k.length + 64;
    return { files, bytes };
  }

  #get(url: URL, signal?: AbortSignal): Promise<Buffer> {
    const mod = url.protocol === "https:" ? https : http;
    const agent = url.protocol === "https:" ? this.#agents.https : this.#agents.http;
    return new Promise((resolve, reject) => {
      const req = mod.get(url, { agent, signal, timeout: this.#opts.timeoutMs ?? 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          if (res.statusCode === 404) return reject(new ArtifactNotFoundError(`artifact not found: ${url.href}`));
          if ((res.statusCode ?? 0) >= 300) {
            return reject(new ArtifactFetchError(`failed to download artifact from ${url.href}, status: ${res.statusCode} ${res.statusMessage ?? ""}`.trim()));
          }
          resolve(Buffer.concat(chunks));
        });
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
    });
  }
}

function verifyDigest(body: Buffer, digest: string): void {
  const i = digest.indexOf(":");
  const algo = digest.slice(0, i);
  if (!["sha256", "sha384", "sha512", "sha1"].includes(algo)) throw new ArtifactFetchError(`failed to verify artifact: unsupported digest algorithm '${algo}'`);
  const got = `${algo}:${createHash(algo).update(body).digest("hex")}`;
  if (got !== digest) throw new ArtifactFetchError(`failed to verify artifact: computed digest doesn't match '${digest}'`);
}
