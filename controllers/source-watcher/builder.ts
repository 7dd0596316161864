// Builds one ArtifactGenerator output: runs its copy operations over the sources' files (held
// in memory, as the kustomize-controller reads artifacts) with the cp-like semantics of
// Flux's spec, and names the tarball by the content hash source-watcher uses
// (golang.org/x/mod dirhash over "<artifact>/<path>" lines with Adler-32), so unchanged
// content keeps its file name, digest and `latest@<digest>` revision.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { parse, stringify } from "yaml";
import type { CopyOperation, OutputArtifact } from "../api/source-extensions/v1beta1/artifact-generator";
import type { Artifact, Storage } from "../runtime/artifact-storage";
import { FileTree, isExecutable, readTar } from "../runtime/tar-reader";

const P = path.posix;

export class BuildError extends Error {}

/** A glob as a RegExp. `doublestar`: `**` spans directories and `{a,b}` alternates (bmatcuk/doublestar); else Go's path.Match, where `**` is `*`. */
export function globRegExp(pattern: string, doublestar: boolean): RegExp {
  let re = "";
  const segs = pattern.split("/");
  segs.forEach((seg, si) => {
    const last = si === segs.length - 1;
    if (doublestar && seg === "**") { re += last ? ".*" : "(?:[^/]*/)*"; return; }
    for (let i = 0; i < seg.length; i++) {
      const c = seg[i]!;
      if (c === "*") { while (seg[i + 1] === "*") i++; re += "[^/]*"; }
      else if (c === "?") re += "[^/]";
      else if (c === "[") {
        const end = seg.indexOf("]", i + 2);
        if (end < 0) throw new BuildError(`syntax error in pattern '${pattern}'`);
        let body = seg.slice(i + 1, end);
        if (body.startsWith("!") || body.startsWith("^")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = end;
      } else if (doublestar && c === "{") {
        const end = seg.indexOf("}", i);
        if (end < 0) throw new BuildError(`syntax error in pattern '${pattern}'`);
        re += `(?:${seg.slice(i + 1, end).split(",").map(escape).join("|")})`;
        i = end;
      } else if (c === "\\" && i + 1 < seg.length) re += escape(seg[++i]!);
      else if (c === "]") throw new BuildError(`syntax error in pattern '${pattern}'`);
      else re += escape(c);
    }
    if (!last) re += "/";
  });
  return new RegExp(`^${re}$`);
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const hasGlob = (p: string) => /[*?[\]]/.test(p);

/** Files and the directories above them. */
function entries(tree: FileTree): string[] {
  const out = new Set<string>();
  for (const f of tree.keys()) {
    out.add(f);
    for (let d = P.dirname(f); d !== "."; d = P.dirname(d)) out.add(d);
  }
  return [...out].sort();
}
const isDir = (tree: FileTree, p: string) => p === "." || p === "" || [...tree.keys()].some((f) => f.startsWith(p + "/"));

function shouldExclude(file: string, patterns: RegExp[], raw: string[]): boolean {
  const base = P.basename(file);
  return patterns.some((re, i) => re.test(file) || (!raw[i]!.includes("/") && re.test(base)));
}
function selectionRoot(pattern: string): string {
  const parts: string[] = [];
  for (const part of P.normalize(pattern).split("/")) { if (hasGlob(part)) break; parts.push(part); }
  return parts.length ? P.join(...parts) : ".";
}
function shouldExcludePath(file: string, base: string, patterns: RegExp[], raw: string[]): boolean {
  if (shouldExclude(file, patterns, raw)) return true;
  const b = P.normalize(base);
  const rel = b === "." ? file : P.relative(b, file);
  if (rel.startsWith("..") || rel === "." || rel === file) return false;
  return shouldExclude(rel, patterns, raw);
}

/** Helm's values merge: maps merge key by key, anything else (arrays too) is replaced. */
function mergeValues(dest: Record<string, unknown>, src: Record<string, unknown>): Record<string, unknown> {
  const out = { ...dest };
  for (const [k, v] of Object.entries(src)) {
    const d = out[k];
    out[k] = isMap(v) && isMap(d) ? mergeValues(d, v) : v;
  }
  return out;
}
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
function loadYaml(data: Buffer, name: string): Record<string, unknown> {
  try {
    const v = parse(data.toString("utf8")) ?? {};
    if (!isMap(v)) throw new Error("not a YAML map");
    return v;
  } catch (e) { throw new BuildError(`failed to parse YAML file '${name}': ${(e as Error).message}`); }
}

/** Stages a file; as source-watcher, a copy keeps the source file's mode (here: its execute bit). */
function put(staging: FileTree, dest: string, data: Buffer, executable: boolean): void {
  const d = P.normalize(dest);
  if (d === "." || d.startsWith("..")) throw new BuildError(`invalid destination '${dest}'`);
  if (isDir(staging, d)) throw new BuildError(`destination '${d}' is a directory`);
  staging.set(d, data);
  if (executable) (staging.executables ??= new Set()).add(d);
  else staging.executables?.delete(d);
}

function copyPath(op: CopyOperation, src: FileTree, srcPath: string, staging: FileTree, dest: string, excludeBase: string, ex: RegExp[]): void {
  if (isDir(src, srcPath)) {
    const prefix = srcPath === "." ? "" : srcPath + "/";
    for (const f of [...src.keys()].filter((k) => k.startsWith(prefix)).sort()) {
      const rel = f.slice(prefix.length);
      // A file is left out when it, or a directory between srcPath and it, is excluded.
      const parts = rel.split("/");
      let excluded = false;
      for (let i = 1; i <= parts.length && !excluded; i++) excluded = shouldExcludePath(prefix + parts.slice(0, i).join("/"), excludeBase, ex, op.exclude ?? []);
      if (!excluded) put(staging, P.join(dest, rel), src.get(f)!, isExecutable(src, f));
    }
    return;
  }
  const data = src.get(srcPath)!;
  if (op.strategy === "Merge" && staging.has(P.normalize(dest))) {
    const merged = mergeValues(loadYaml(staging.get(P.normalize(dest))!, dest), loadYaml(data, srcPath));
    staging.set(P.normalize(dest), Buffer.from(stringify(merged)));
    return;
  }
  put(staging, dest, data, isExecutable(src, srcPath));
}

const isTarball = (p: string) => p.endsWith(".tar.gz") || p.endsWith(".tgz");
function extract(src: FileTree, file: string, staging: FileTree, dest: string): void {
  let files: FileTree;
  try { files = readTar(zlib.gunzipSync(src.get(file)!)); } catch (e) { throw new BuildError(`failed to extract tarball '${file}' to '${dest}': ${(e as Error).message}`); }
  for (const [f, data] of files) put(staging, P.join(dest || ".", f), data, isExecutable(files, f));
}

/** One copy operation, as source-watcher's builder applies it. */
export function applyCopy(op: CopyOperation, sources: Map<string, FileTree>, staging: FileTree): void {
  const m = /^@([^/]+)\/(.*)$/.exec(op.from);
  if (!m) throw new BuildError(`invalid copy source '${op.from}': source format must be '@alias/pattern'`);
  const [, alias, pattern] = m as unknown as [string, string, string];
  if (!op.to.startsWith("@artifact/")) throw new BuildError(`invalid copy destination '${op.to}': destination must start with '@artifact/'`);
  const dest = op.to.slice("@artifact/".length);
  const src = sources.get(alias);
  if (!src) throw new BuildError(`source alias '${alias}' not found`);
  const raw = op.exclude ?? [];
  const ex = raw.map((p) => { try { return globRegExp(p, true); } catch { throw new BuildError(`invalid exclude pattern '${p}'`); } });
  const toDir = op.to.endsWith("/");

  if (!hasGlob(pattern)) {
    const srcPath = P.normalize(pattern || ".").replace(/\/$/, "") || ".";
    if (!src.has(srcPath) && !isDir(src, srcPath)) throw new BuildError(`source '${srcPath}' does not exist`);
    if (isDir(src, srcPath)) {
      if (op.strategy === "Extract") throw new BuildError(`extract strategy is not supported for directories, got '${srcPath}'`);
      copyPath(op, src, srcPath, staging, P.join(dest || ".", P.basename(srcPath) === "." ? "" : P.basename(srcPath)), srcPath, ex);
      return;
    }
    if (shouldExcludePath(srcPath, ".", ex, raw)) return;
    if (op.strategy === "Extract") {
      if (!isTarball(srcPath)) throw new BuildError(`extract strategy requires tarball file (.tar.gz or .tgz), got '${srcPath}'`);
      extract(src, srcPath, staging, dest);
      return;
    }
    const target = toDir || dest === "" || isDir(staging, P.normalize(dest)) ? P.join(dest || ".", P.basename(srcPath)) : dest;
    copyPath(op, src, srcPath, staging, target, ".", ex);
    return;
  }

  let re: RegExp;
  try { re = globRegExp(pattern, op.strategy === "Extract"); } catch (e) { throw new BuildError(`invalid glob pattern '${pattern}': ${(e as Error).message}`); }
  const matches = entries(src).filter((e) => re.test(e));
  if (matches.length === 0) throw new BuildError(`no files match pattern '${pattern}' in source '${alias}'`);
  const base = selectionRoot(pattern);
  const kept = matches.filter((e) => !shouldExcludePath(e, base, ex, raw));
  if (kept.length === 0) throw new BuildError(`all files matching pattern '${pattern}' in source '${alias}' were excluded`);
  for (const match of kept) {
    if (op.strategy === "Extract") {
      if (src.has(match) && isTarball(match)) extract(src, match, staging, dest);
      continue;
    }
    let target = P.join(dest || ".", match);
    if (pattern.endsWith("/**")) {
      const prefix = pattern.slice(0, -3) + "/";
      if (match.startsWith(prefix)) target = P.join(dest || ".", match.slice(prefix.length));
    }
    copyPath(op, src, match, staging, target, base, ex);
  }
}

function adler32(data: Buffer): number {
  let a = 1, b = 0;
  for (let i = 0; i < data.length;) {
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) { a += data[i]!; b += a; }
    a %= 65521; b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** source-watcher's content hash of the staged files (dirhash with Adler-32, prefix = artifact name). */
export function contentHash(name: string, files: FileTree): string {
  const lines = [...files.keys()].map((f) => `${name}/${f}`).sort().map((f) => {
    if (f.includes("\n")) throw new BuildError("filenames with newlines are not supported");
    return `${adler32(files.get(f.slice(name.length + 1))!).toString(16)}  ${f}\n`;
  });
  return String(adler32(Buffer.from(lines.join(""))));
}

/** Runs the copy operations and stores `externalartifact/<ns>/<name>/<hash>.tar.gz`; revision `latest@<digest>`. */
export async function buildArtifact(spec: OutputArtifact, sources: Map<string, FileTree>, namespace: string, storage: Storage): Promise<Artifact> {
  const staging: FileTree = new Map();
  for (const op of spec.copy) {
    try { applyCopy(op, sources, staging); } catch (e) {
      throw new BuildError(`failed to apply copy operations: failed to apply copy operation from '${op.from}' to '${op.to}': ${(e as Error).message}`, { cause: e });
    }
  }
  const hash = contentHash(spec.name, staging);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ag-"));
  try {
    const files = [...staging.keys()].sort();
    for (const f of files) {
      fs.mkdirSync(path.join(dir, P.dirname(f)), { recursive: true });
      // Explicit modes: the umask must not change the tarball, hence the digest and revision.
      fs.writeFileSync(path.join(dir, f), staging.get(f)!);
      fs.chmodSync(path.join(dir, f), isExecutable(staging, f) ? 0o755 : 0o644);
    }
    const artifact = await storage.archive(dir, files, storage.artifactPath("ExternalArtifact", namespace, spec.name, `${hash}.tar.gz`), "");
    return { ...artifact, revision: `latest@${artifact.digest}` };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
