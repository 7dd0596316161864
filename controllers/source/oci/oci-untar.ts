// Unpacking a gzipped tarball (an OCI layer, a source artifact) into an empty directory with
// GNU tar: it strips leading '/', refuses '..' members and defers dangerous symlinks; the
// symlinks left are removed afterwards, as Flux skips symlinks when it untars.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export async function untar(file: string, dir: string, timeoutMs = 120_000): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  try {
    await exec("tar", ["-xzf", file, "-C", dir, "--no-same-owner", "--no-same-permissions", "--delay-directory-restore"],
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { PATH: process.env.PATH, LC_ALL: "C" } });
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "").split("\n").map((l) => l.replace(/^tar: /, "").trim()).filter(Boolean);
    throw new Error(stderr.join("; ") || (e as Error).message, { cause: e });
  }
  removeSymlinks(dir);
}

function removeSymlinks(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isSymbolicLink()) fs.unlinkSync(p);
    else if (e.isDirectory()) removeSymlinks(p);
  }
}
