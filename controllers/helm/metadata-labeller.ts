// Labels (and annotations) set on metadata of every object in helm's rendered manifests, in
// process: what kustomize's LabelTransformer/AnnotationsTransformer with the field spec
// `metadata/labels` (`metadata/annotations`), create: true, do for Flux, without a kustomize
// process. The text helm rendered is kept as it is, only the entries are inserted (or their
// values replaced): helm parses the result as it would have parsed its own rendering (its YAML
// 1.1 scalars, numbers, comments untouched). A document whose metadata is not in block style
// is rewritten by the yaml library with YAML 1.1 scalars; a `kind: List` gets its items
// labelled (helm creates the items). Values are written double-quoted, so a label value such as
// `no` or `0777` stays a string for helm.
import { Document, type Tags, isMap, isPair, isScalar, isSeq, parseAllDocuments, Scalar, YAMLMap, YAMLSeq } from "yaml";

export class LabelError extends Error {}

interface Edit { at: number; del: number; text: string }

type Entries = Array<[string, string]>;

const plainKey = (k: string) => (/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(k) && !/^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/.test(k) ? k : JSON.stringify(k));
const entry = (k: string, v: string) => `${plainKey(k)}: ${JSON.stringify(v)}`;

const pairOf = (m: YAMLMap, key: string) => m.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);

/** The indentation of the map's first key when the map is a block map starting its own line; else undefined. */
function blockIndent(src: string, m: unknown): string | undefined {
  if (!isMap(m) || m.flow || m.items.length === 0) return undefined;
  const first = m.items[0];
  if (!isScalar(first.key) || !first.key.range) return undefined;
  const at = first.key.range[0];
  const lineStart = src.lastIndexOf("\n", at - 1) + 1;
  const indent = src.slice(lineStart, at);
  return /^ *$/.test(indent) ? indent : undefined;
}

/** Edits setting `sets` (field name -> entries) on the block map `meta`; undefined when a part is not plain block style. */
function metadataEdits(src: string, meta: YAMLMap, sets: Record<string, Entries>): Edit[] | undefined {
  const indent = blockIndent(src, meta);
  if (indent === undefined) return undefined;
  const edits: Edit[] = [];
  let missing = "";
  for (const [field, entries] of Object.entries(sets)) {
    if (!entries.length) continue;
    const p = pairOf(meta, field);
    if (!p) {
      missing += `${field}:\n${entries.map(([k, v]) => `${indent}  ${entry(k, v)}\n`).join("")}${indent}`;
      continue;
    }
    const m = p.value;
    const inner = blockIndent(src, m);
    if (inner === undefined || !isMap(m)) return undefined;
    let add = "";
    for (const [k, v] of entries) {
      const q = pairOf(m, k);
      if (!q) { add += `${entry(k, v)}\n${inner}`; continue; }
      if (!isScalar(q.value) || !q.value.range) return undefined;
      edits.push({ at: q.value.range[0], del: q.value.range[1] - q.value.range[0], text: JSON.stringify(v) });
    }
    if (add) edits.push({ at: (m.items[0].key as Scalar).range![0], del: 0, text: add });
  }
  if (missing) edits.push({ at: (meta.items[0].key as Scalar).range![0], del: 0, text: missing });
  return edits;
}

// YAML 1.1 as helm reads it, without the sexagesimal numbers and timestamps whose rewriting would
// change their text (kept as plain strings).
const yaml11 = {
  version: "1.1" as const, intAsBigInt: true, uniqueKeys: false,
  customTags: (tags: Tags) => tags.filter((t) => !(typeof t === "object" && ((t as { format?: string }).format === "TIME" || t.tag === "tag:yaml.org,2002:timestamp"))),
};

/** The document rewritten by the yaml library (YAML 1.1, the values double-quoted); of a List, its items. */
function rewrite(doc: Document.Parsed, sets: Record<string, Entries>, src: string): Edit {
  const d = parseAllDocuments(src.slice(doc.range[0], doc.range[2]), yaml11)[0] as Document.Parsed;
  const mapAt = (parent: YAMLMap, key: string): YAMLMap => {
    const v = parent.get(key, true);
    if (isMap(v)) return v;
    const m = new YAMLMap();
    parent.set(key, m);
    return m;
  };
  const items = d.get("items", true);
  const objects: unknown[] = d.get("kind") === "List" && isSeq(items) ? (items as YAMLSeq).items : [d.contents];
  for (const o of objects) {
    if (!isMap(o)) continue;
    const m = mapAt(o, "metadata");
    for (const [field, entries] of Object.entries(sets)) {
      if (!entries.length) continue;
      const f = mapAt(m, field);
      for (const [k, v] of entries) {
        const s = new Scalar(v);
        s.type = Scalar.QUOTE_DOUBLE;
        f.set(k, s);
      }
    }
  }
  d.commentBefore = null;
  d.comment = null;
  d.directives.docStart = null;
  const c = doc.contents!;
  return { at: c.range[0], del: c.range[2] - c.range[0], text: d.toString({ lineWidth: 0 }) };
}

/**
 * `manifests` with `labels` and `annotations` set on every object's metadata (creating the
 * maps); an empty document stays as it is. Throws LabelError when the YAML does not parse or a
 * document is not an object.
 */
export function labelManifests(manifests: string, labels: Record<string, string>, annotations: Record<string, string> = {}): string {
  const sets: Record<string, Entries> = { labels: Object.entries(labels), annotations: Object.entries(annotations) };
  const edits: Edit[] = [];
  for (const doc of parseAllDocuments(manifests, { uniqueKeys: false })) {
    if (doc.errors.length) throw new LabelError(`the rendered manifests are not valid YAML: ${doc.errors[0].message}`);
    const c = doc.contents;
    if (c === null || (isScalar(c) && (c.value === null || c.value === ""))) continue;
    if (!isMap(c)) throw new LabelError(`a rendered document is not an object: ${JSON.stringify(manifests.slice(c.range[0], Math.min(c.range[1], c.range[0] + 80)))}`);
    const meta = pairOf(c, "metadata")?.value;
    const kind = pairOf(c, "kind")?.value;
    const simple = !(isScalar(kind) && kind.value === "List") && isMap(meta) && blockIndent(manifests, c) !== undefined;
    const e = simple ? metadataEdits(manifests, meta as YAMLMap, sets) : undefined;
    if (e) edits.push(...e);
    else edits.push(rewrite(doc, sets, manifests));
  }
  const parts: string[] = [];
  let pos = 0;
  for (const e of edits.sort((a, b) => a.at - b.at)) {
    parts.push(manifests.slice(pos, e.at), e.text);
    pos = e.at + e.del;
  }
  parts.push(manifests.slice(pos));
  return parts.join("");
}
