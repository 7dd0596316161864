// Writes to a temporary directory only the files a build needs: everything below
// spec.path, plus whatever the kustomization files found there reference outside it
// (`../base`, patch files, generator sources), transitively. References leaving the artifact
// root are refused, so a build cannot read the controller's own files.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FileTree } from "../runtime/tar-reader";
import { filesUnder, isDir, isInside, isRemote, join, KUSTOMIZATION_FILES } from "./file-tree";
import { KustomizationFile, GenerateError } from "./kustomization-file";
import { parseKustomizationFile } from "./yaml-docs";

/** The paths (files or directories) a kustomization file refers to. */
function references(kus: Record<string, unknown>): string[] {
  const out: string[] = [];
  const add = (v: unknown) => { if (typeof v === "string" && v && !v.includes("\n")) out.push(v); };
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  for (const f of ["resources", "bases", "components", "crds", "configurations", "generators", "transformers", "validators", "patchesStrategicMerge"]) list(kus[f]).forEach(add);
  for (const f of ["patches", "patchesJson6902", "replacements"]) list(kus[f]).forEach((p) => add((p as { path?: unknown })?.path));
  add((kus.openapi as { path?: unknown } | undefined)?.path);
  for (const f of ["configMapGenerator", "secretGenerator"]) {
    for (const g of list(kus[f]) as Array<Record<string, unknown>>) {
      list(g?.files).forEach((s) => add(typeof s === "string" ? s.slice(s.indexOf("=") + 1) : s));
      list(g?.envs).forEach(add);
      add(g?.env);
    }
  }
  return out.filter((r) => !isRemote(r));
}

/** Relative paths of every file to write. */
export function buildClosure(files: FileTree, dir: string, root: KustomizationFile): Set<string> {
  const picked = new Set<string>();
  const dirs = new Set<string>();
  const queue: string[] = [];
  const addDir = (d: string) => {
    if (dirs.has(d) || [...dirs].some((x) => x === "" || d.startsWith(`${x}/`))) return;
    dirs.add(d);
    for (const f of filesUnder(files, d)) {
      picked.add(f);
      if (KUSTOMIZATION_FILES.includes(path.posix.basename(f)) && f !== root.path) queue.push(f);
    }
  };
  const follow = (from: string, kus: Record<string, unknown>) => {
    for (const ref of references(kus)) {
      const target = join(from, ref);
      if (!isInside(target)) throw new GenerateError(`path '${ref}' referenced by ${join(from, "kustomization.yaml")} is outside the source root`);
      if (files.has(target)) picked.add(target);
      else if (isDir(files, target)) addDir(target);
    }
  };
  addDir(dir);
  follow(dir, parseKustomizationFile(root.content));
  while (queue.length) {
    const f = queue.shift()!;
    try {
      follow(path.posix.dirname(f) === "." ? "" : path.posix.dirname(f), parseKustomizationFile(files.get(f)!.toString("utf8")));
    } catch (e) {
      if (e instanceof GenerateError) throw e;
    }
  }
  picked.delete(root.path);
  return picked;
}

/** Writes the closure and the kustomization file under a new temp dir; returns the dir. */
export function materialize(files: FileTree, dir: string, root: KustomizationFile, tmpRoot = os.tmpdir()): string {
  const work = fs.mkdtempSync(path.join(tmpRoot, "kustomization-"));
  const made = new Set<string>();
  const write = (rel: string, data: Buffer | string) => {
    const abs = path.join(work, rel);
    const parent = path.dirname(abs);
    if (!made.has(parent)) {
      fs.mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    fs.writeFileSync(abs, data);
  };
  for (const f of buildClosure(files, dir, root)) write(f, files.get(f)!);
  write(root.path, root.content);
  if (dir && !made.has(path.join(work, dir))) fs.mkdirSync(path.join(work, dir), { recursive: true });
  return work;
}
