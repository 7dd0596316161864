// Where scanned tags live between scans and across restarts. Flux keeps them in a badger
// database under --storage-path; we keep one JSON file per ImageRepository
// (`<dir>/<namespace>/<name>.json`: canonical image name and tags), written atomically
// (temp file + rename). Tags recorded for another canonical name read as none.
import * as fs from "node:fs";
import * as path from "node:path";

export interface RepoIdentity { namespace: string; name: string; canonicalName: string }

/** Adler-32, as Flux's checksum of the stored tag list (status.lastScanResult.revision). */
export function adler32(buf: Buffer): number {
  let a = 1, b = 0;
  for (const byte of buf) { a = (a + byte) % 65521; b = (b + a) % 65521; }
  return ((b << 16) | a) >>> 0;
}

export class TagStore {
  constructor(readonly dir: string) { fs.mkdirSync(dir, { recursive: true }); }

  #file(r: RepoIdentity): string { return path.join(this.dir, r.namespace, `${r.name}.json`); }

  tags(r: RepoIdentity): string[] {
    try {
      const j = JSON.parse(fs.readFileSync(this.#file(r), "utf8")) as { canonicalName?: string; tags?: string[] };
      return j.canonicalName === r.canonicalName ? (j.tags ?? []) : [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw new Error(`failed to read tags of '${r.namespace}/${r.name}': ${(e as Error).message}`, { cause: e });
    }
  }

  /** Stores the tags; returns their checksum. */
  setTags(r: RepoIdentity, tags: string[]): string {
    const file = this.#file(r);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ canonicalName: r.canonicalName, tags }));
    fs.renameSync(tmp, file);
    return String(adler32(Buffer.from(JSON.stringify(tags))));
  }

  delete(r: Omit<RepoIdentity, "canonicalName">): void {
    fs.rmSync(path.join(this.dir, r.namespace, `${r.name}.json`), { force: true });
  }
}
