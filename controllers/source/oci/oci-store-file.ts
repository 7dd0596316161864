// Storing a file as it is (an OCI layer with `operation: copy`, a Helm index, a chart .tgz):
// the same guarantees as Storage.archive — temp file, fsync, rename, digest while copying —
// for artifacts that are not built from a directory.
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import { Transform } from "node:stream";
import { Artifact, Storage, StorageError } from "../../runtime/artifact-storage";

export async function storeFile(storage: Storage, src: string, relPath: string, revision: string): Promise<Artifact> {
  const dest = storage.absolute(relPath);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${randomBytes(4).toString("hex")}`;
  const hash = createHash("sha256");
  let size = 0;
  const measure = new Transform({ transform(chunk: Buffer, _e, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); } });
  try {
    await pipeline(fs.createReadStream(src), measure, fs.createWriteStream(tmp, { mode: 0o644 }));
    const fd = fs.openSync(tmp, "r");
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOSPC") throw new StorageError(`no space left on the storage volume writing ${relPath}`, { cause: err });
    throw new StorageError(`failed to write artifact ${relPath}: ${e.message}`, { cause: err });
  }
  return {
    path: relPath, url: storage.url(relPath), revision,
    digest: `sha256:${hash.digest("hex")}`, lastUpdateTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"), size,
  };
}

/** Size as Flux prints it in events (go-units HumanSize: decimal units, 4 significant digits). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}
