// Artifact storage: `<root>/<kind>/<namespace>/<name>/<file>`, written so a consumer never
// sees half a file (temp file, fsync, rename), with the digest computed while writing, and
// garbage collection that keeps the current artifact plus a few recent ones.
import { ChildProcessByStdio, ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable, Transform } from "node:stream";
import * as zlib from "node:zlib";

export interface Artifact {
  path: string;
  url: string;
  revision: string;
  digest: string;
  lastUpdateTime: string;
  size: number;
  metadata?: Record<string, string>;
}

export class StorageError extends Error {}

export class Storage {
  constructor(readonly root: string, readonly advertisedAddress: string, readonly retention = 2) {
    fs.mkdirSync(root, { recursive: true });
  }

  /** Relative artifact path in Flux's layout. */
  artifactPath(kind: string, namespace: string, name: string, file: string): string {
    return [kind.toLowerCase(), namespace, name, file].join("/");
  }

  url(relPath: string): string {
    return `http://${this.advertisedAddress}/${relPath}`;
  }

  absolute(relPath: string): string {
    const abs = path.resolve(this.root, relPath);
    if (!abs.startsWith(path.resolve(this.root) + path.sep)) throw new StorageError(`artifact path '${relPath}' is outside storage`);
    return abs;
  }

  exists(artifact: { path: string } | undefined): boolean {
    if (!artifact?.path) return false;
    try { return fs.statSync(this.absolute(artifact.path)).isFile(); } catch { return false; }
  }

  /**
   * Archives `files` (relative to `dir`) as a gzipped tarball at `relPath`. Entries are
   * sorted, owned by 0:0 with a fixed mtime, so the same tree gives the same digest.
   */
  archive(dir: string, files: string[], relPath: string, revision: string): Promise<Artifact> {
    const tar = spawn("tar", ["--create", "--file=-", "--owner=0", "--group=0", "--numeric-owner", "--mtime=@0",
      "--format=gnu", "--no-recursion", "--null", "--files-from=-"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    tar.stdin.end(files.join("\0") + (files.length ? "\0" : ""));
    return this.#store(tar, relPath, revision);
  }

  /**
   * Archives the checked-out commit of the git work tree `dir` straight from git's object
   * store (no file reads), leaving out `excluded` paths via export-ignore attributes. Same
   * entries as `archive` for a plain checkout, several times faster for large trees.
   */
  archiveCommit(dir: string, excluded: string[], relPath: string, revision: string): Promise<Artifact> {
    const quote = (p: string) => `/${p.replace(/[\\*?[\]\s#!]/g, (c) => `\\${c}`)}`;
    fs.writeFileSync(path.join(dir, ".git", "info", "attributes"), excluded.map((p) => `${quote(p)} export-ignore\n`).join(""));
    // git gzips in its own process (level 6, as ours): the compression runs beside our hashing
    // and writing instead of in this process.
    const git = spawn("git", ["archive", "--format=tar.gz", "-6", "HEAD"], {
      cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", HOME: dir },
    });
    return this.#store(git, relPath, revision, true);
  }

  /** Gzips a tar stream (unless `gzipped`) into storage atomically (temp file, fsync, rename), hashing as it goes. */
  async #store(producer: ChildProcessWithoutNullStreams | ChildProcessByStdio<null, Readable, Readable>, relPath: string, revision: string, gzipped = false): Promise<Artifact> {
    const dest = this.absolute(relPath);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${randomBytes(4).toString("hex")}`;
    const hash = createHash("sha256");
    let size = 0;
    let stderr = "";
    producer.stderr.on("data", (c) => (stderr += c));
    const produced = new Promise<void>((resolve, reject) => producer.on("close", (code) =>
      code === 0 ? resolve() : reject(new StorageError(`${producer.spawnfile} failed (${code}): ${stderr.trim()}`))));
    const measure = new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); } });
    const out = fs.createWriteStream(tmp, { mode: 0o644 });
    try {
      const written = gzipped ? pipeline(producer.stdout, measure, out) : pipeline(producer.stdout, zlib.createGzip({ level: 6 }), measure, out);
      await Promise.all([written, produced]);
      const fd = fs.openSync(tmp, "r");
      try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, dest);
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOSPC") throw new StorageError(`no space left on the storage volume writing ${relPath}`, { cause: err });
      throw err instanceof StorageError ? err : new StorageError(`failed to write artifact ${relPath}: ${e.message}`, { cause: err });
    }
    return {
      path: relPath, url: this.url(relPath), revision,
      digest: `sha256:${hash.digest("hex")}`, lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"), size,
    };
  }

  /** Whether the stored file still has `digest` ("sha256:<hex>"): false when missing or changed on disk. */
  async verify(relPath: string, digest: string): Promise<boolean> {
    const [algo, hex] = digest.split(":");
    if (algo !== "sha256" || !hex) return false;
    const hash = createHash("sha256");
    try { for await (const chunk of fs.createReadStream(this.absolute(relPath))) hash.update(chunk as Buffer); } catch { return false; }
    return hash.digest("hex") === hex;
  }

  /** Removes all but the current and the most recent `retention - 1` other artifacts of one object. */
  garbageCollect(kind: string, namespace: string, name: string, current?: string): string[] {
    const dir = this.absolute(this.artifactPath(kind, namespace, name, "x")).replace(/\/x$/, "");
    let entries: Array<{ f: string; mtime: number }>;
    try {
      entries = fs.readdirSync(dir).map((f) => ({ f, mtime: fs.statSync(path.join(dir, f)).mtimeMs }));
    } catch { return []; }
    const currentFile = current ? path.basename(current) : undefined;
    const others = entries.filter((e) => e.f !== currentFile).sort((a, b) => b.mtime - a.mtime);
    const keep = Math.max(0, this.retention - (currentFile ? 1 : 0));
    const removed = others.slice(keep).map((e) => e.f);
    // Half-written temp files of a crashed write are garbage too.
    for (const e of others) if (/\.tmp-[0-9a-f]+$/.test(e.f) && !removed.includes(e.f)) removed.push(e.f);
    for (const f of removed) fs.rmSync(path.join(dir, f), { force: true });
    return removed;
  }

  /** Deletes one stored file (e.g. one that failed `verify`). */
  remove(relPath: string): void { fs.rmSync(this.absolute(relPath), { force: true }); }

  /** Deletes everything stored for one object (on object deletion). */
  removeAll(kind: string, namespace: string, name: string): void {
    fs.rmSync(path.join(this.root, kind.toLowerCase(), namespace, name), { recursive: true, force: true });
  }
}
