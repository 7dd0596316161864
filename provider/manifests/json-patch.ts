/**
 * RFC 6902 JSON patches over plain objects, and kustomize-style target selection. Used to apply
 * the customisation patches written into kustomization.yaml, so the provider applies exactly
 * what kustomize (and so Flux) builds from the same files.
 */
import type { InstallPatch, JsonPatchOperation } from "../args/install";
import { clone, describe, groupOf, type KubeManifest } from "./objects";

export class PatchError extends Error {}

/** Escapes one JSON pointer segment (`/` → `~1`, `~` → `~0`). */
export function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new PatchError(`'${pointer}' is not a JSON pointer (it must start with /)`);
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = Record<string, unknown> | unknown[];

function resolveParent(doc: unknown, segments: string[], pointer: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const seg of segments.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[seg];
    else cur = undefined;
    if (cur === undefined || cur === null || typeof cur !== "object") throw new PatchError(`path ${pointer}: '${seg}' does not exist`);
  }
  return { parent: cur as Container, key: segments[segments.length - 1]! };
}

function arrayIndex(arr: unknown[], key: string, pointer: string, forAdd: boolean): number {
  if (key === "-" && forAdd) return arr.length;
  const i = Number(key);
  if (!Number.isInteger(i) || i < 0 || i > arr.length || (!forAdd && i === arr.length)) {
    throw new PatchError(`path ${pointer}: index ${key} is out of range (length ${arr.length})`);
  }
  return i;
}

function get(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const seg of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (cur && typeof cur === "object") cur = (cur as Record<string, unknown>)[seg];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`path ${pointer} does not exist`);
  }
  return cur;
}

function remove(doc: unknown, pointer: string): unknown {
  const segments = parsePointer(pointer);
  if (segments.length === 0) throw new PatchError("cannot remove the whole document");
  const { parent, key } = resolveParent(doc, segments, pointer);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, pointer, false), 1)[0];
  if (!(key in parent)) throw new PatchError(`path ${pointer} does not exist`);
  const old = parent[key];
  delete parent[key];
  return old;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const segments = parsePointer(pointer);
  if (segments.length === 0) return value;
  const { parent, key } = resolveParent(doc, segments, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, value);
  else parent[key] = value;
  return doc;
}

/** Applies the operations in order to a copy of `doc` and returns it. */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  let out: unknown = clone(doc);
  for (const [i, op] of ops.entries()) {
    try {
      switch (op.op) {
        case "add":
          out = add(out, op.path, clone(op.value));
          break;
        case "remove":
          remove(out, op.path);
          break;
        case "replace":
          get(out, op.path);
          if (op.path === "") out = clone(op.value);
          else {
            remove(out, op.path);
            out = add(out, op.path, clone(op.value));
          }
          break;
        case "copy":
          out = add(out, op.path, clone(get(out, need(op.from, "from"))));
          break;
        case "move": {
          const v = remove(out, need(op.from, "from"));
          out = add(out, op.path, v);
          break;
        }
        case "test":
          if (JSON.stringify(get(out, op.path)) !== JSON.stringify(op.value)) throw new PatchError(`test failed at ${op.path}`);
          break;
        default:
          throw new PatchError(`unknown op '${(op as { op: string }).op}'`);
      }
    } catch (e) {
      throw new PatchError(`operation ${i} (${op.op} ${op.path}): ${(e as Error).message}`);
    }
  }
  return out as T;
}

function need(v: string | undefined, name: string): string {
  if (v === undefined) throw new PatchError(`'${name}' is required`);
  return v;
}

/** Equality-based label selector (`a=b,c==d,e!=f,g,!h`), the subset kustomize targets use in practice. */
export function matchesLabelSelector(labels: Record<string, string> | undefined, selector: string): boolean {
  const l = labels ?? {};
  for (const raw of selector.split(",").map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpMatchArray | null;
    if ((m = raw.match(/^([^!=]+)!=(.*)$/))) {
      if (l[m[1]!.trim()] === m[2]!.trim()) return false;
    } else if ((m = raw.match(/^([^!=]+)==?(.*)$/))) {
      if (l[m[1]!.trim()] !== m[2]!.trim()) return false;
    } else if (raw.startsWith("!")) {
      if (raw.slice(1).trim() in l) return false;
    } else if (!(raw in l)) return false;
  }
  return true;
}

export function targets(obj: KubeManifest, target: InstallPatch["target"]): boolean {
  if (obj.kind !== target.kind) return false;
  if (target.name !== undefined && obj.metadata.name !== target.name) return false;
  if (target.group !== undefined && groupOf(obj.apiVersion) !== target.group) return false;
  if (target.labelSelector !== undefined && !matchesLabelSelector(obj.metadata.labels, target.labelSelector)) return false;
  return true;
}

/** Applies each patch to every object its target selects; a patch that selects nothing is an error. */
export function applyInstallPatches(objects: readonly KubeManifest[], patches: readonly InstallPatch[]): KubeManifest[] {
  let out = [...objects];
  for (const [i, p] of patches.entries()) {
    let hits = 0;
    out = out.map((obj) => {
      if (!targets(obj, p.target)) return obj;
      hits++;
      try {
        return applyJsonPatch(obj, p.operations);
      } catch (e) {
        throw new PatchError(`patch ${i} on ${describe(obj)}: ${(e as Error).message}`);
      }
    });
    if (hits === 0) {
      const t = p.target;
      throw new PatchError(`patch ${i} selects no install object (kind ${t.kind}${t.name ? `, name ${t.name}` : ""}${t.labelSelector ? `, labels ${t.labelSelector}` : ""})`);
    }
  }
  return out;
}
