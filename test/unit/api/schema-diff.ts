/**
 * Structural comparison of two CRD schemas, path by path, for the schema oracle.
 * Descriptions are ignored; every other keyword must match exactly.
 */
import { isDeepStrictEqual } from "node:util";

type Schema = Record<string, any>;

/** Keywords handled by walking rather than by value. */
const structural = new Set(["description", "properties", "items", "additionalProperties", "required"]);

const show = (v: unknown) => (v === undefined ? "(unset)" : JSON.stringify(v));

/**
 * Differences between Flux's schema (`upstream`) and ours, as `path: what` lines. Paths look like
 * `.spec.ref.branch`, `.spec.include[].repository` and `.spec.postBuild.substitute{}` (map values).
 */
export function diffSchemas(upstream: Schema, ours: Schema, path = ""): string[] {
  const diffs: string[] = [];
  const at = path || "(root)";
  for (const key of new Set([...Object.keys(upstream), ...Object.keys(ours)])) {
    if (structural.has(key)) continue;
    if (!isDeepStrictEqual(upstream[key], ours[key])) {
      diffs.push(`${at}: ${key} is ${show(ours[key])}, Flux has ${show(upstream[key])}`);
    }
  }

  const upProps: Schema = upstream.properties ?? {};
  const ourProps: Schema = ours.properties ?? {};
  const upRequired = new Set<string>(upstream.required ?? []);
  const ourRequired = new Set<string>(ours.required ?? []);
  for (const name of Object.keys(upProps)) {
    const child = `${path}.${name}`;
    if (!(name in ourProps)) {
      diffs.push(`${child}: missing (Flux has it${upRequired.has(name) ? ", required" : ""})`);
      continue;
    }
    if (upRequired.has(name) !== ourRequired.has(name)) {
      diffs.push(`${child}: ${ourRequired.has(name) ? "required" : "optional"} here, ${upRequired.has(name) ? "required" : "optional"} in Flux`);
    }
    diffs.push(...diffSchemas(upProps[name], ourProps[name], child));
  }
  for (const name of Object.keys(ourProps)) {
    if (!(name in upProps)) diffs.push(`${path}.${name}: not in Flux's schema`);
  }
  for (const name of ourRequired) {
    if (!(name in ourProps)) diffs.push(`${path}.${name}: required but not a property`);
  }

  diffs.push(...diffChild(upstream.items, ours.items, `${path}[]`, "items"));
  diffs.push(...diffChild(upstream.additionalProperties, ours.additionalProperties, `${path}{}`, "additionalProperties"));
  return diffs;
}

function diffChild(upstream: unknown, ours: unknown, path: string, key: string): string[] {
  if (upstream === undefined && ours === undefined) return [];
  if (typeof upstream === "object" && upstream !== null && typeof ours === "object" && ours !== null) {
    return diffSchemas(upstream as Schema, ours as Schema, path);
  }
  if (isDeepStrictEqual(upstream, ours)) return [];
  return [`${path}: ${key} is ${show(ours)}, Flux has ${show(upstream)}`];
}
