/** Plain Kubernetes objects as the renderer produces them, and the YAML around them. */
import { parseAllDocuments, stringify } from "yaml";

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the API server on live objects being deleted. */
  deletionTimestamp?: string;
  finalizers?: string[];
  [key: string]: unknown;
}

export interface KubeManifest {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [key: string]: unknown;
}

/** `<group>/<kind>` as the API server names it (group empty for the core group). */
export function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

/** `Kind/namespace/name` or `Kind/name`, for messages. */
export function describe(obj: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return obj.metadata.namespace ? `${obj.kind}/${obj.metadata.namespace}/${obj.metadata.name}` : `${obj.kind}/${obj.metadata.name}`;
}

/** Multi-document YAML: `---` before each document, stable key order as given. */
export function toYamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => "---\n" + stringify(o, { lineWidth: 0, version: "1.1" })).join("");
}

/** Parses multi-document YAML; empty documents are dropped, and a document that is not an object is an error. */
export function parseYamlDocuments(text: string, source = "YAML"): KubeManifest[] {
  const out: KubeManifest[] = [];
  for (const [i, doc] of parseAllDocuments(text, { version: "1.1" }).entries()) {
    if (doc.errors.length > 0) throw new Error(`${source}: document ${i + 1}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) throw new Error(`${source}: document ${i + 1} is not a Kubernetes object`);
    const obj = value as KubeManifest;
    if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
      throw new Error(`${source}: document ${i + 1} lacks apiVersion, kind or metadata.name`);
    }
    out.push(obj);
  }
  return out;
}

/** A deep copy of JSON data. */
export function clone<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
