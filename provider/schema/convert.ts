/**
 * OpenAPI (the CRD/args schema values) → Pulumi package schema types. Nested objects become
 * named types `gitops:index:<Owner><Field>`; maps, lists, int-or-string and free-form JSON map
 * to their Pulumi equivalents.
 */
import type { SchemaProps } from "../../controllers/api/schema";
import { PackageName } from "../version";

export interface PulumiTypeSpec {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  items?: PulumiTypeSpec;
  additionalProperties?: PulumiTypeSpec;
  $ref?: string;
  oneOf?: PulumiTypeSpec[];
}

export interface PulumiPropertySpec extends PulumiTypeSpec {
  description?: string;
  secret?: boolean;
  replaceOnChanges?: boolean;
  willReplaceOnChanges?: boolean;
}

export interface PulumiObjectTypeSpec {
  type: "object";
  description?: string;
  properties: Record<string, PulumiPropertySpec>;
  required?: string[];
}

export const AnyRef: PulumiTypeSpec = { $ref: "pulumi.json#/Any" };

const pascal = (s: string) => s.replace(/(^|[-_.])([a-zA-Z0-9])/g, (_m, _p, c: string) => c.toUpperCase());

export class TypeRegistry {
  readonly types: Record<string, PulumiObjectTypeSpec> = {};
  private readonly shapes = new Map<string, string>();

  /** The token of a named object type for `schema`, registering it (and its children) once. */
  objectType(name: string, schema: SchemaProps): string {
    const spec: PulumiObjectTypeSpec = {
      type: "object",
      description: schema.description,
      properties: this.properties(name, schema),
    };
    if (schema.required && schema.required.length > 0) spec.required = [...schema.required];
    const shape = JSON.stringify(spec);
    const existing = this.shapes.get(shape);
    if (existing) return existing;
    let token = `${PackageName}:index:${name}`;
    for (let i = 2; this.types[token]; i++) token = `${PackageName}:index:${name}${i}`;
    this.types[token] = spec;
    this.shapes.set(shape, token);
    return token;
  }

  properties(owner: string, schema: SchemaProps): Record<string, PulumiPropertySpec> {
    const out: Record<string, PulumiPropertySpec> = {};
    for (const [k, v] of Object.entries(schema.properties ?? {})) {
      out[k] = { ...this.typeOf(owner + pascal(k), v), ...(v.description ? { description: v.description } : {}) };
    }
    return out;
  }

  typeOf(name: string, s: SchemaProps): PulumiTypeSpec {
    if (s["x-kubernetes-int-or-string"]) return { oneOf: [{ type: "integer" }, { type: "string" }] };
    if (s.anyOf && !s.type) return AnyRef;
    switch (s.type) {
      case "string":
      case "boolean":
      case "integer":
      case "number":
        return { type: s.type };
      case "array":
        return { type: "array", items: s.items ? this.typeOf(name, s.items) : AnyRef };
      case "object":
        if (s.properties && Object.keys(s.properties).length > 0) return { $ref: `#/types/${this.objectType(name, s)}` };
        if (s.additionalProperties) return { type: "object", additionalProperties: this.typeOf(name, s.additionalProperties) };
        return { type: "object", additionalProperties: AnyRef };
      default:
        return AnyRef;
    }
  }
}
