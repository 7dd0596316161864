// The Setters update strategy: in every YAML file under the update path, a scalar whose
// line ends with a setter comment (`# {"$imagepolicy": "<ns>:<policy>"}`, optionally with
// `:tag`, `:name` or `:digest`) gets the value of the named ImagePolicy's latest image.
// Only the scalar's own characters change (quoting style kept); the rest of the file stays
// byte for byte, which Flux's kyaml round-trip does not promise.
import * as fs from "node:fs";
import * as path from "node:path";
import { Scalar, parseAllDocuments, visit } from "yaml";

export interface LatestImage { name: string; tag: string; digest?: string }

/** Flux's update.ObjectIdentifier (kyaml ResourceIdentifier): empty strings where absent. */
export interface ObjectId { Name: string; Namespace: string; APIVersion: string; Kind: string }
export interface Change { OldValue: string; NewValue: string; Setter: string }
export interface FileChange { file: string; object: ObjectId; changes: Change[] }

export class SetterError extends Error {}

const SETTER = /^\s*\{\s*"\$imagepolicy"\s*:\s*"([^"]*)"\s*\}\s*$/;

/** Values for every setter name a policy provides (`ns:name`, `ns:name:tag`, ...). */
export function setterValues(namespace: string, policies: Map<string, LatestImage>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, ref] of policies) {
    const key = `${namespace}:${name}`;
    out.set(key, `${ref.name}:${ref.tag}${ref.digest ? `@${ref.digest}` : ""}`);
    out.set(`${key}:tag`, ref.tag);
    out.set(`${key}:name`, ref.name);
    if (ref.digest) out.set(`${key}:digest`, ref.digest);
  }
  return out;
}

function quote(value: string, type: Scalar["type"]): string {
  if (type === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (type === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  return value;
}

/** Rewrites one file's text; returns the new text and what changed, per object. */
export function applySetters(text: string, values: Map<string, string>, file = "<input>"): { text: string; changes: Array<{ object: ObjectId; changes: Change[] }> } {
  if (!text.includes("$imagepolicy")) return { text, changes: [] };
  const edits: Array<{ start: number; end: number; value: string; object: ObjectId; change: Change }> = [];
  for (const doc of parseAllDocuments(text)) {
    if ("errors" in doc && doc.errors.length > 0) throw new SetterError(`failed to parse ${file}: ${doc.errors[0].message.split("\n")[0]}`);
    const js = (doc.toJS?.() ?? {}) as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    const object: ObjectId = {
      Name: str(js?.metadata?.name), Namespace: str(js?.metadata?.namespace), APIVersion: str(js?.apiVersion), Kind: str(js?.kind),
    };
    visit(doc, {
      Scalar(_key, node) {
        const m = node.comment ? SETTER.exec(node.comment) : null;
        if (!m || !node.range) return;
        // Block scalars (| and >) are not single-line values; Flux's setters skip them too.
        if (node.type === Scalar.BLOCK_FOLDED || node.type === Scalar.BLOCK_LITERAL) return;
        const want = values.get(m[1]);
        if (want === undefined) return;
        const old = String(node.value ?? "");
        if (old === want) return;
        edits.push({ start: node.range[0], end: node.range[1], value: quote(want, node.type), object, change: { OldValue: old, NewValue: want, Setter: m[1] } });
      },
    });
  }
  if (edits.length === 0) return { text, changes: [] };
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.value + out.slice(e.end);
  const byObject: Array<{ object: ObjectId; changes: Change[] }> = [];
  for (const e of edits) {
    const same = byObject.find((o) => JSON.stringify(o.object) === JSON.stringify(e.object));
    if (same) same.changes.push(e.change); else byObject.push({ object: e.object, changes: [e.change] });
  }
  return { text: out, changes: byObject };
}

/** Walks `dir` (not following symlinks, skipping .git) and rewrites YAML files in place. */
export function applySettersToTree(root: string, dir: string, values: Map<string, string>): FileChange[] {
  const result: FileChange[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) { if (entry.name !== ".git") walk(full); continue; }
      if (!entry.isFile() || !/\.ya?ml$/.test(entry.name)) continue;
      const text = fs.readFileSync(full, "utf8");
      const rel = path.relative(root, full).split(path.sep).join("/");
      const r = applySetters(text, values, rel);
      if (r.changes.length === 0) continue;
      fs.writeFileSync(full, r.text);
      for (const c of r.changes) result.push({ file: rel, object: c.object, changes: c.changes });
    }
  };
  walk(dir);
  return result;
}
