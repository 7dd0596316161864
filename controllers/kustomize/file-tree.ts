// Path helpers over an in-memory artifact (relative path -> content).
import * as path from "node:path";
import { FileTree } from "../runtime/tar-reader";

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

export function join(dir: string, rel: string): string {
  const p = path.posix.normalize(path.posix.join(dir, rel)).replace(/\/+$/, "");
  return p === "." || p === "" ? "" : p;
}

/** Whether `p` stays inside the artifact root. */
export function isInside(p: string): boolean {
  return p !== ".." && !p.startsWith("../") && !path.posix.isAbsolute(p);
}

export function isFile(files: FileTree, p: string): boolean {
  return files.has(p);
}

/** A directory exists when some file lives below it (the root always exists). */
export function isDir(files: FileTree, dir: string): boolean {
  if (dir === "") return true;
  const prefix = `${dir}/`;
  for (const k of files.keys()) if (k.startsWith(prefix)) return true;
  return false;
}

/** Files below `dir`, at any depth, as full paths. */
export function filesUnder(files: FileTree, dir: string): string[] {
  if (dir === "") return [...files.keys()];
  const prefix = `${dir}/`;
  return [...files.keys()].filter((k) => k.startsWith(prefix));
}

/** The kustomization file of a directory, if it has one. */
export function kustomizationFileIn(files: FileTree, dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => join(dir, f)).find((f) => files.has(f));
}

/** Whether a kustomization reference is remote (kustomize fetches it itself). */
export function isRemote(ref: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || /^(git@|github\.com[:/]|gh:|git::)/i.test(ref);
}
