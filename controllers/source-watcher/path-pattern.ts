// spec.pathPattern ("@<alias>/apps/{app}/envs/{env}"): every directory of the source matching
// the pattern instantiates spec.artifacts as templates, as Flux's source-watcher documents it.
// Names and labels get the captures lowercased; copy paths keep their case. Every error here is
// one the user must fix in the spec or the repository, so it is terminal (Stalled, BuildFailed).
import type { OutputArtifact } from "../api/source-extensions/v1beta1/artifact-generator";
import type { FileTree } from "../runtime/tar-reader";

export class PathPatternError extends Error {}

/** One ExternalArtifact to build: the rendered output and the labels from the captures. */
export interface ArtifactRequest { artifact: OutputArtifact; labels: Record<string, string> }

const captureName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The captures of a template or pattern, checking its braces and names. */
function scanCaptures(text: string, what: (i: number) => string): string[] {
  const names: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "}") throw new PathPatternError(`${what(i)}: capture ending at offset ${i} is missing opening brace`);
    if (text[i] !== "{") continue;
    const end = text.indexOf("}", i + 1);
    if (end < 0) throw new PathPatternError(`${what(i)}: capture starting at offset ${i} is missing closing brace`);
    const name = text.slice(i + 1, end);
    if (name === "") throw new PathPatternError(`${what(i)}: empty capture variable`);
    if (!captureName.test(name)) throw new PathPatternError(`${what(i)}: capture variable "${name}" must be a valid capture name matching [A-Za-z_][A-Za-z0-9_]*`);
    names.push(name);
    i = end;
  }
  return names;
}

export function renderTemplate(tmpl: string, values: Record<string, string>): string {
  const what = () => `invalid template "${tmpl}"`;
  scanCaptures(tmpl, what);
  return tmpl.replace(/\{([A-Za-z0-9_]+)\}/g, (_m, name: string) => {
    if (!(name in values)) throw new PathPatternError(`${what()}: capture variable "${name}" is not defined by pathPattern`);
    return values[name]!;
  });
}

/** Directories of a file tree (every ancestor of a file), in the order a directory walk visits them. */
function directories(tree: FileTree): string[] {
  const dirs = new Set<string>();
  for (const f of tree.keys()) for (let d = f.slice(0, f.lastIndexOf("/")); d && !dirs.has(d); d = d.slice(0, Math.max(0, d.lastIndexOf("/")))) dirs.add(d);
  const walkOrder = (a: string, b: string) => {
    const x = a.split("/"), y = b.split("/");
    for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
    return x.length - y.length;
  };
  return [...dirs].sort(walkOrder);
}

/** spec.artifacts as they are, or instantiated once per directory matching spec.pathPattern. */
export function expandArtifacts(pathPattern: string | undefined, artifacts: OutputArtifact[], sources: Map<string, FileTree>): ArtifactRequest[] {
  if (!pathPattern) return artifacts.map((artifact) => ({ artifact, labels: {} }));
  const q = JSON.stringify(pathPattern);
  const m = /^@([^/]+)\/(.*)$/.exec(pathPattern);
  if (!m) throw new PathPatternError(`invalid pathPattern format: ${pathPattern}`);
  const [, alias, pattern] = m as unknown as [string, string, string];
  const tree = sources.get(alias);
  if (!tree) throw new PathPatternError(`pathPattern ${q}: source alias ${alias} not found in local sources`);
  const names = scanCaptures(pattern, (i) => `pathPattern ${q}: invalid capture at offset ${i}`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new PathPatternError(`pathPattern ${q}: duplicate capture variable "${dup}"`);
  for (const n of names) {
    if (n.length > 63 || !labelName.test(n)) throw new PathPatternError(`pathPattern ${q}: capture variable "${n}" is not a valid Kubernetes label key: name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character, at most 63 characters`);
  }
  const regex = new RegExp("^" + pattern.split(/\{[A-Za-z0-9_]+\}/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("([^/]+)") + "$");

  const out: ArtifactRequest[] = [];
  const seen = new Map<string, string>();
  for (const dir of directories(tree)) {
    const hit = regex.exec(dir);
    if (!hit) continue;
    const raw: Record<string, string> = {}, lower: Record<string, string> = {};
    names.forEach((n, i) => { raw[n] = hit[i + 1]!; lower[n] = hit[i + 1]!.toLowerCase(); });
    for (const n of names) {
      const v = lower[n]!;
      if (v.length > 63 || !labelValue.test(v)) {
        throw new PathPatternError(`pathPattern ${q}: captured value "${v}" for variable "${n}" is not a valid Kubernetes label value: a valid label must be at most 63 characters, consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`);
      }
    }
    for (const oa of artifacts) {
      let artifact: OutputArtifact;
      try {
        artifact = {
          ...oa, name: renderTemplate(oa.name, lower),
          copy: oa.copy.map((c) => ({ ...c, from: renderTemplate(c.from, raw), to: renderTemplate(c.to, raw) })),
        };
      } catch (e) {
        throw new PathPatternError(`pathPattern ${q}: failed to render artifact ${oa.name} for match ${dir}: ${(e as Error).message}`);
      }
      if (artifact.name.length > 253 || !dnsSubdomain.test(artifact.name)) {
        throw new PathPatternError(`pathPattern ${q}: rendered artifact name "${artifact.name}" is not a valid Kubernetes object name: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`);
      }
      const prev = seen.get(artifact.name);
      if (prev !== undefined) throw new PathPatternError(`pathPattern ${q}: directories "${prev}" and "${dir}" both resolve to artifact name "${artifact.name}"`);
      seen.set(artifact.name, dir);
      out.push({ artifact, labels: { ...lower } });
    }
  }
  return out;
}
