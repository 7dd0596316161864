// The kustomization.yaml a Kustomization builds: the one at spec.path, or one generated for a
// plain directory (every .yaml/.yml file below it, sub-directories holding a kustomization
// added as a whole), with the spec's targetNamespace, namePrefix/nameSuffix, patches,
// images, components and buildMetadata merged in as Flux does.
import * as path from "node:path";
import type { KustomizationSpec } from "../api/kustomize/v1/kustomization";
import { FileTree } from "../runtime/tar-reader";
import { isDir, isRemote, join, kustomizationFileIn } from "./file-tree";
import { parseDoc, parseKustomizationFile, splitDocs, toYaml } from "./yaml-docs";

export class GenerateError extends Error {
  override readonly name = "GenerateError";
}

export interface KustomizationFile {
  /** Where it is written, relative to the artifact root. */
  path: string;
  content: string;
}

type Kus = Record<string, unknown>;

export function kustomizationFor(files: FileTree, dir: string, spec: KustomizationSpec): KustomizationFile {
  const existing = kustomizationFileIn(files, dir);
  const kus: Kus = existing ? parseExisting(files, existing) : generate(files, dir);
  kus.apiVersion ??= "kustomize.config.k8s.io/v1beta1";
  kus.kind ??= "Kustomization";
  if (spec.targetNamespace) kus.namespace = spec.targetNamespace;
  if (spec.namePrefix) kus.namePrefix = spec.namePrefix;
  if (spec.nameSuffix) kus.nameSuffix = spec.nameSuffix;
  if (spec.patches?.length) {
    const patches = Array.isArray(kus.patches) ? (kus.patches as unknown[]) : [];
    for (const p of spec.patches) patches.push(p.target ? { patch: p.patch, target: p.target } : { patch: p.patch });
    kus.patches = patches;
  }
  if (spec.components?.length) {
    const components = Array.isArray(kus.components) ? (kus.components as string[]) : [];
    for (const c of spec.components) {
      if (isRemote(c) || path.posix.isAbsolute(c)) throw new GenerateError(`component path '${c}' must be local and relative`);
      if (spec.ignoreMissingComponents && !isDir(files, join(dir, c))) continue;
      components.push(c);
    }
    if (components.length) kus.components = components;
  }
  if (spec.images?.length) kus.images = mergeImages(Array.isArray(kus.images) ? (kus.images as Kus[]) : [], spec.images);
  if (spec.buildMetadata?.length) kus.buildMetadata = [...spec.buildMetadata];
  return { path: existing ?? join(dir, "kustomization.yaml"), content: toYaml(kus) };
}

function parseExisting(files: FileTree, file: string): Kus {
  try {
    return parseKustomizationFile(files.get(file)!.toString("utf8"));
  } catch (e) {
    throw new GenerateError(`failed to parse ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function generate(files: FileTree, dir: string): Kus {
  const resources: string[] = [];
  walk(files, dir, (rel) => { resources.push(`./${rel}`); });
  return resources.length ? { resources } : { namespace: "_placeholder" };
}

/**
 * Visits, in directory-walk order, every .yaml/.yml file below `dir` and every sub-directory
 * that holds a kustomization (whose contents are then skipped). Files must parse as YAML.
 */
function walk(files: FileTree, dir: string, visit: (rel: string) => void): void {
  const prefix = dir ? `${dir}/` : "";
  const children = new Map<string, boolean>();
  for (const k of files.keys()) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const slash = rest.indexOf("/");
    children.set(slash < 0 ? rest : rest.slice(0, slash), slash >= 0);
  }
  for (const name of [...children.keys()].sort()) {
    const full = prefix + name;
    if (children.get(name)) {
      if (kustomizationFileIn(files, full)) visit(full.slice(rootLen(dir)));
      else walkFrom(files, dir, full, visit);
      continue;
    }
    if (!/\.ya?ml$/.test(name)) continue;
    validateManifest(files, full);
    visit(full.slice(rootLen(dir)));
  }
}

function walkFrom(files: FileTree, root: string, sub: string, visit: (rel: string) => void): void {
  walk(files, sub, (rel) => visit(`${sub.slice(rootLen(root))}/${rel}`));
}

const rootLen = (dir: string) => (dir ? dir.length + 1 : 0);

function validateManifest(files: FileTree, file: string): void {
  try {
    for (const doc of splitDocs(files.get(file)!.toString("utf8"))) {
      const v = parseDoc(doc);
      if (v !== null && v !== undefined && (typeof v !== "object" || Array.isArray(v))) throw new Error("object is not a map");
    }
  } catch (e) {
    throw new GenerateError(`failed to decode Kubernetes YAML from ${file}: ${(e as Error).message}`, { cause: e });
  }
}

function mergeImages(current: Kus[], images: NonNullable<KustomizationSpec["images"]>): Kus[] {
  const out = current.map((i) => ({ ...i }));
  for (const img of images) {
    const found = out.find((i) => i.name === img.name);
    if (!found) {
      out.push(Object.fromEntries(Object.entries({ name: img.name, newName: img.newName, newTag: img.newTag, digest: img.digest }).filter(([, v]) => v)));
      continue;
    }
    if (img.newName) found.newName = img.newName;
    if (img.newTag || img.digest) {
      if (img.newTag) found.newTag = img.newTag; else delete found.newTag;
      if (img.digest) found.digest = img.digest; else delete found.digest;
    }
  }
  return out;
}
