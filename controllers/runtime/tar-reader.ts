// Reads a tar archive held in memory (ustar, GNU long names, pax path records) into a map of
// regular files. Artifacts are never unpacked to disk: the disk here pays ~0.6 ms per file
// created, and a Kustomization needs only the files under its path. Paths are normalized and
// entries escaping the root ("..", absolute) are rejected, as Flux's untar does.
import * as path from "node:path";

export class TarError extends Error {
  override readonly name = "TarError";
}

/**
 * Regular files of the archive by normalized relative path ("dir/file.yaml"); `executables`
 * names those with an execute bit (the only mode bit artifacts keep: entries are 0644 or 0755).
 */
export type FileTree = Map<string, Buffer> & { executables?: Set<string> };

export const isExecutable = (tree: FileTree, file: string): boolean => tree.executables?.has(file) === true;

const BLOCK = 512;

export function readTar(buf: Buffer): FileTree {
  const files: FileTree = new Map();
  let off = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (off + BLOCK <= buf.length) {
    const header = buf.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) throw new TarError(`invalid tar header checksum at offset ${off}`);
    const size = readOctal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > buf.length) throw new TarError("unexpected end of tar archive");
    const data = buf.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "L") { longName = cString(data); continue; }
    if (type === "x") { paxPath = paxRecord(data, "path") ?? paxPath; continue; }
    if (type === "g") continue;
    let name = paxPath ?? longName ?? headerName(header);
    longName = paxPath = undefined;
    if (type !== "0" && type !== "\0" && type !== "7") continue; // directories, links, devices
    name = normalize(name);
    if (!name) continue;
    files.set(name, Buffer.from(data));
    if (readOctal(header, 100, 8) & 0o111) (files.executables ??= new Set()).add(name);
    else files.executables?.delete(name);
  }
  return files;
}

/** A safe relative path, or throws for paths leaving the root. Empty for the root itself. */
export function normalize(p: string): string {
  const n = path.posix.normalize(p.replace(/\\/g, "/")).replace(/^(\.\/)+/, "").replace(/\/+$/, "");
  if (n === "." ) return "";
  if (path.posix.isAbsolute(n) || n === ".." || n.startsWith("../")) throw new TarError(`tar entry '${p}' is outside the archive root`);
  return n;
}

function headerName(h: Buffer): string {
  const name = cString(h.subarray(0, 100));
  const magic = h.subarray(257, 263).toString("latin1");
  const prefix = magic.startsWith("ustar") && magic !== "ustar " ? cString(h.subarray(345, 500)) : "";
  return prefix ? `${prefix}/${name}` : name;
}

function cString(b: Buffer): string {
  const i = b.indexOf(0);
  return b.subarray(0, i < 0 ? b.length : i).toString("utf8");
}

function readOctal(h: Buffer, start: number, len: number): number {
  const field = h.subarray(start, start + len);
  if (field[0] & 0x80) {
    // GNU base-256 for sizes beyond 8 GiB.
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i];
    return v;
  }
  const s = cString(field).trim();
  return s ? parseInt(s, 8) : 0;
}

function checksumOk(h: Buffer): boolean {
  const stored = readOctal(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
  return sum === stored;
}

function paxRecord(data: Buffer, key: string): string | undefined {
  let off = 0;
  let found: string | undefined;
  while (off < data.length) {
    const sp = data.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(data.subarray(off, sp).toString("latin1"), 10);
    if (!len) break;
    const rec = data.subarray(sp + 1, off + len - 1).toString("utf8");
    const eq = rec.indexOf("=");
    if (rec.slice(0, eq) === key) found = rec.slice(eq + 1);
    off += len;
  }
  return found;
}
