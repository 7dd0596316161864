/**
 * Validates resource inputs against the same schema values the CRDs and the Pulumi schema come
 * from, so a mistake is reported at preview with the field's path and the rule it breaks,
 * before anything touches git or the cluster. Values not known yet (preview) are skipped.
 */
import type { SchemaProps } from "../../controllers/api/schema";

export interface Failure {
  property: string;
  reason: string;
}

/** What the engine sends for a value that is not known during preview. */
export const UnknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
  return v === UnknownValue;
}

/** True when `v` or anything inside it is unknown. */
export function containsUnknown(v: unknown): boolean {
  if (isUnknown(v)) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function closest(name: string, options: string[]): string | undefined {
  const lower = name.toLowerCase();
  return options.find((o) => o.toLowerCase() === lower) ?? options.find((o) => o.toLowerCase().startsWith(lower.slice(0, 3)));
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

export function validate(value: unknown, schema: SchemaProps, path: string, out: Failure[] = []): Failure[] {
  if (value === undefined || value === null || isUnknown(value)) return out;
  const fail = (reason: string) => out.push({ property: path, reason });
  if (schema.anyOf && !schema.type) {
    const ok = schema.anyOf.some((s) => validate(value, s, path, []).length === 0);
    if (!ok) fail(`expected ${schema.anyOf.map((s) => s.type).join(" or ")}, got ${typeName(value)}`);
    return out;
  }
  switch (schema.type) {
    case "string":
      if (typeof value !== "string") return fail(`expected a string, got ${typeName(value)}`), out;
      if (schema.enum && !schema.enum.includes(value)) return fail(`'${value}' is not one of ${schema.enum.join(", ")}`), out;
      if (schema.pattern && !new RegExp(schema.pattern).test(value)) fail(`'${value}' does not match ${schema.pattern}${schema.description ? ` (${firstSentence(schema.description)})` : ""}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) fail(`must be at least ${schema.minLength} characters`);
      if (schema.maxLength !== undefined && value.length > schema.maxLength) fail(`must be at most ${schema.maxLength} characters`);
      return out;
    case "integer":
    case "number":
      if (typeof value !== "number" || (schema.type === "integer" && !Number.isInteger(value))) return fail(`expected ${schema.type === "integer" ? "an integer" : "a number"}, got ${typeName(value)}`), out;
      if (schema.minimum !== undefined && value < schema.minimum) fail(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) fail(`must be at most ${schema.maximum}`);
      return out;
    case "boolean":
      if (typeof value !== "boolean") fail(`expected true or false, got ${typeName(value)}`);
      return out;
    case "array":
      if (!Array.isArray(value)) return fail(`expected a list, got ${typeName(value)}`), out;
      if (schema.minItems !== undefined && value.length < schema.minItems) fail(`needs at least ${schema.minItems} item(s)`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`takes at most ${schema.maxItems} item(s)`);
      if (schema.items) value.forEach((v, i) => validate(v, schema.items!, join(path, i), out));
      return out;
    case "object": {
      if (typeof value !== "object" || Array.isArray(value)) return fail(`expected an object, got ${typeName(value)}`), out;
      const obj = value as Record<string, unknown>;
      for (const r of schema.required ?? []) {
        if (obj[r] === undefined || obj[r] === null) out.push({ property: join(path, r), reason: "is required" });
      }
      const props = schema.properties ?? {};
      for (const [k, v] of Object.entries(obj)) {
        if (props[k]) validate(v, props[k]!, join(path, k), out);
        else if (schema.additionalProperties) validate(v, schema.additionalProperties, join(path, k), out);
        else if (!schema["x-kubernetes-preserve-unknown-fields"] && Object.keys(props).length > 0) {
          const hint = closest(k, Object.keys(props));
          out.push({ property: join(path, k), reason: `unknown field${hint ? `; did you mean '${hint}'?` : ""} (known: ${Object.keys(props).join(", ")})` });
        }
      }
      return out;
    }
    default:
      return out;
  }
}

function firstSentence(s: string): string {
  const i = s.indexOf(". ");
  return i > 0 ? s.slice(0, i) : s.replace(/\.$/, "");
}
