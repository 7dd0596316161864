// YAML as Flux's Go code reads manifests (sigs.k8s.io/yaml, i.e. YAML 1.1 resolution:
// `on`/`yes` are booleans, `0755` is octal) but without the 1.1 tags Go does not resolve
// (sexagesimal `8080:80` and timestamps stay strings). Multi-document streams split on
// `---` lines so each document's text can be substituted on its own.
import * as YAML from "yaml";

const PARSE_OPTIONS: YAML.ParseOptions & YAML.DocumentOptions & YAML.SchemaOptions = {
  version: "1.1",
  customTags: (tags) => (tags as Array<{ tag: string; format?: string }>).filter((t) => t.format !== "TIME" && !t.tag.endsWith(":timestamp")) as never,
};

/** Parses one document with Go-compatible scalar resolution. */
export function parseDoc(text: string): unknown {
  return YAML.parse(text, PARSE_OPTIONS);
}

/** The documents of a stream, as text, without empty ones. */
export function splitDocs(text: string): string[] {
  return text.split(/^---[ \t]*$/m).filter((d) => d.replace(/^\s*#.*$/gm, "").trim() !== "");
}

/** YAML text of a value, for writing kustomization files and for substitution. */
export function toYaml(value: unknown): string {
  return YAML.stringify(value, { lineWidth: 0, version: "1.1" });
}

/** Parses a kustomization.yaml (kustomize reads YAML 1.2). */
export function parseKustomizationFile(text: string): Record<string, unknown> {
  const v = YAML.parse(text) as unknown;
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
