// Labels (and annotations) set on metadata of every object in helm's rendered manifests, in
// process: what kustomize's LabelTransformer/AnnotationsTransformer with the field spec
// `metadata/labels` (`metadata/annotations`), create: true, do for Flux, without a kustomize
// process. kustomize reads the documents as Go's yaml.v3 does (YAML 1.2: `on`, `y` and `1:20`
// are strings; 0777 is octal; a date is a timestamp, written back in RFC 3339) and writes them
// back so that helm's YAML 1.1 reader sees the same values; so does this: the documents are read
// with yaml.v3's scalars and written with every string that YAML 1.1 would read otherwise
// quoted. Comments and anchors go (resolved), empty documents are dropped, a `kind: List` is
// released as its items, as with kustomize.
import { type CollectionTag, type ScalarTag, type Tags, isMap, parseAllDocuments, stringify } from "yaml";

export class LabelError extends Error {}

const sign = (s: string) => (s.startsWith("-") ? -1n : 1n);
const digits = (s: string) => s.replace(/^[-+]/, "").replace(/_/g, "");

/** Integers yaml.v3 reads beyond YAML 1.2's core schema (Go's strconv.ParseInt, base 0): 0777 octal, 1_000. */
const goInts: ScalarTag[] = [
  { tag: "tag:yaml.org,2002:int", default: true, test: /^[-+]?0[0-7_]+$/, resolve: (s: string) => sign(s) * BigInt(`0o${digits(s).slice(1)}`) },
  { tag: "tag:yaml.org,2002:int", default: true, test: /^[-+]?[1-9][0-9]*(?:_[0-9]+)+$/, resolve: (s: string) => sign(s) * BigInt(digits(s)) },
];

/** yaml.v3's timestamps (2006-1-2, 2006-1-2T15:4:5.999Z07:00, 2006-1-2 15:4:5.999), as Go's RFC 3339 JSON text. */
const timestamp: ScalarTag = {
  tag: "tag:yaml.org,2002:timestamp", default: true,
  test: /^(\d{4})-(\d\d?)-(\d\d?)(?:(?:([Tt])(\d\d?):(\d\d?):(\d\d?)(?:\.(\d+))?(Z|[-+]\d\d:\d\d))|(?: (\d\d?):(\d\d?):(\d\d?)(?:\.(\d+))?))?$/,
  resolve: (s: string) => {
    const m = timestamp.test!.exec(s)!;
    const p = (x: string) => x.padStart(2, "0");
    const [y, mo, d] = [m[1], p(m[2]), p(m[3])];
    const [h, mi, se, frac, zone] = m[4] ? [m[5], m[6], m[7], m[8], m[9]] : m[10] ? [m[10], m[11], m[12], m[13], "Z"] : ["0", "0", "0", undefined, "Z"];
    const f = (frac ?? "").slice(0, 9).replace(/0+$/, "");
    return `${y}-${mo}-${d}T${p(h)}:${p(mi)}:${p(se)}${f ? `.${f}` : ""}${zone === "+00:00" || zone === "-00:00" ? "Z" : zone}`;
  },
};

const readAsGo = {
  intAsBigInt: true, merge: true,
  customTags: (tags: Tags) => [...goInts, timestamp, ...tags] as Array<ScalarTag | CollectionTag>,
};

type Obj = { kind?: unknown; items?: unknown; metadata?: Record<string, unknown> } & Record<string, unknown>;

/**
 * `manifests` with `labels` and `annotations` set on every object's metadata (creating the
 * maps). Throws LabelError when the YAML does not parse or a document is not an object.
 */
export function labelManifests(manifests: string, labels: Record<string, string>, annotations: Record<string, string> = {}): string {
  const out: string[] = [];
  for (const doc of parseAllDocuments(manifests, readAsGo)) {
    if (doc.errors.length) throw new LabelError(`the rendered manifests are not valid YAML: ${doc.errors[0].message}`);
    const c = doc.contents;
    if (c === null) continue;
    if (!isMap(c)) {
      const v = doc.toJS();
      if (v === null || v === "") continue;
      throw new LabelError(`a rendered document is not an object: ${JSON.stringify(v).slice(0, 80)}`);
    }
    const o = doc.toJS({ maxAliasCount: -1 }) as Obj;
    const objects = o.kind === "List" && Array.isArray(o.items) ? (o.items as Obj[]) : [o];
    for (const x of objects) {
      if (!x || typeof x !== "object" || Array.isArray(x)) throw new LabelError(`an item of a rendered List is not an object: ${JSON.stringify(x)}`);
      const meta = (x.metadata && typeof x.metadata === "object" ? x.metadata : (x.metadata = {})) as Record<string, unknown>;
      for (const [field, values] of [["labels", labels], ["annotations", annotations]] as const) {
        if (!Object.keys(values).length) continue;
        const m = meta[field] && typeof meta[field] === "object" ? meta[field] as Record<string, string> : (meta[field] = {}) as Record<string, string>;
        Object.assign(m, values);
      }
      // YAML 1.1 as helm reads it: a string that would read as a bool, number or date is quoted.
      out.push(stringify(x, { version: "1.1", lineWidth: 0 }));
    }
  }
  return out.map((d) => `---\n${d}`).join("");
}
