/**
 * A small schema builder in the style of TypeBox.
 *
 * Every builder returns a plain OpenAPI v3 object, the structural subset Kubernetes accepts in a
 * CustomResourceDefinition (`JSONSchemaProps`), so the value can be written into a CRD as it is.
 * The same value also carries a TypeScript type at compile time only, read with `Static`:
 *
 * ```ts
 * const ref = T.Object({ name: T.String(), namespace: T.Optional(T.String()) });
 * type Ref = Static<typeof ref>; // { name: string; namespace?: string }
 * ```
 *
 * So the CRD and the TypeScript types come from one definition, with no code generation.
 * This module imports nothing.
 */

/** A CEL validation rule (`x-kubernetes-validations`). */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  fieldPath?: string;
}

/** The OpenAPI v3 keywords Kubernetes accepts in a structural CRD schema (the subset we emit). */
export interface SchemaProps {
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  description?: string;
  format?: string;
  pattern?: string;
  enum?: readonly unknown[];
  default?: unknown;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: SchemaProps;
  properties?: Record<string, SchemaProps>;
  required?: string[];
  additionalProperties?: SchemaProps;
  anyOf?: SchemaProps[];
  "x-kubernetes-preserve-unknown-fields"?: true;
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-validations"?: ValidationRule[];
}

/** Compile-time only: the key under which a schema carries its TypeScript type. Never set at runtime. */
declare const StaticType: unique symbol;
/** Runtime marker set by `T.Optional`; `T.Object` reads and strips it. */
const OptionalMark: unique symbol = Symbol("optional");

/** A schema value whose TypeScript type is `S`. */
export interface TSchema<S = unknown> extends SchemaProps {
  readonly [StaticType]: S;
}

/** A schema marked optional for the object that holds it. */
export type TOptional<S extends TSchema> = S & { readonly [OptionalMark]: true };

/** The TypeScript type a schema value describes. */
export type Static<S> = S extends TSchema<infer V> ? V : never;

/** A JSON value, the type of fields with `x-kubernetes-preserve-unknown-fields` and no type. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

type Props = Record<string, TSchema>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends TOptional<TSchema> ? K : never }[keyof P];
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>;
type Flatten<O> = { [K in keyof O]: O[K] } & {};

/** The TypeScript type of an object with properties `P`: optional properties become `?:`. */
export type ObjectStatic<P extends Props> = Flatten<
  { [K in RequiredKeys<P>]: Static<P[K]> } & { [K in OptionalKeys<P>]?: Static<P[K]> }
>;

/** Options every builder takes. A bare string is shorthand for `{ description }`. */
export interface CommonOptions<V> {
  description?: string;
  default?: V;
  validations?: ValidationRule[];
}
export interface StringOptions extends CommonOptions<string> {
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
}
export interface NumberOptions extends CommonOptions<number> {
  format?: "int32" | "int64" | "float" | "double";
  minimum?: number;
  maximum?: number;
}
export interface ArrayOptions<V> extends CommonOptions<V> {
  minItems?: number;
  maxItems?: number;
}
type Options<O> = string | O | undefined;

/** Turns builder options into schema keywords: `validations` becomes `x-kubernetes-validations`. */
function keywords<O extends CommonOptions<unknown>>(opts: Options<O>): SchemaProps {
  if (opts === undefined) return {};
  if (typeof opts === "string") return { description: opts };
  const { validations, ...rest } = opts;
  const out: SchemaProps = { ...(rest as SchemaProps) };
  if (validations && validations.length > 0) out["x-kubernetes-validations"] = validations;
  return out;
}

/** Builds a schema value; the cast attaches the compile-time type. */
function make<V>(props: SchemaProps): TSchema<V> {
  return props as TSchema<V>;
}

function stringSchema(opts?: Options<StringOptions>): TSchema<string> {
  return make({ type: "string", ...keywords(opts) });
}

/** A string restricted to `values`; its type is the union of the literals. */
function enumSchema<const V extends string>(
  values: readonly V[],
  opts?: Options<CommonOptions<NoInfer<V>>>,
): TSchema<V> {
  return make({ type: "string", enum: [...values], ...keywords(opts) });
}

function integerSchema(opts?: Options<NumberOptions>): TSchema<number> {
  return make({ type: "integer", ...keywords(opts) });
}

function numberSchema(opts?: Options<NumberOptions>): TSchema<number> {
  return make({ type: "number", ...keywords(opts) });
}

function booleanSchema(opts?: Options<CommonOptions<boolean>>): TSchema<boolean> {
  return make({ type: "boolean", ...keywords(opts) });
}

function arraySchema<S extends TSchema>(
  items: S,
  opts?: Options<ArrayOptions<Static<S>[]>>,
): TSchema<Static<S>[]> {
  return make({ type: "array", items: strip(items), ...keywords(opts) });
}

/**
 * An object with fixed properties. Properties are required unless wrapped in `T.Optional`;
 * `required` is emitted sorted, and omitted when empty.
 */
function objectSchema<P extends Props>(
  props: P,
  opts?: Options<CommonOptions<Partial<ObjectStatic<P>>>>,
): TSchema<ObjectStatic<P>> {
  const properties: Record<string, SchemaProps> = {};
  const required: string[] = [];
  for (const [name, schema] of Object.entries(props)) {
    if (!(OptionalMark in schema)) required.push(name);
    properties[name] = strip(schema);
  }
  const out: SchemaProps = { type: "object", ...keywords(opts) };
  if (required.length > 0) out.required = required.sort();
  if (Object.keys(properties).length > 0) out.properties = properties;
  return make(out);
}

/** A map with string keys and `values` as values (`additionalProperties`). */
function mapSchema<S extends TSchema>(
  values: S,
  opts?: Options<CommonOptions<Record<string, Static<S>>>>,
): TSchema<Record<string, Static<S>>> {
  return make({ type: "object", additionalProperties: strip(values), ...keywords(opts) });
}

/** An object the API server stores as given (`x-kubernetes-preserve-unknown-fields`). */
function unstructuredSchema(opts?: Options<CommonOptions<Record<string, unknown>>>): TSchema<Record<string, unknown>> {
  return make({ type: "object", "x-kubernetes-preserve-unknown-fields": true, ...keywords(opts) });
}

/**
 * Any JSON value, stored as given: no `type`, only `x-kubernetes-preserve-unknown-fields`
 * (Go's `apiextensionsv1.JSON`). The TypeScript type defaults to `JsonValue`; pass a narrower
 * one where the controller accepts less, e.g. `T.Json<Record<string, unknown>>()`.
 */
function jsonSchema<V = JsonValue>(opts?: Options<CommonOptions<V>>): TSchema<V> {
  return make({ "x-kubernetes-preserve-unknown-fields": true, ...keywords(opts) });
}

/** An integer or a string, such as a port name or a percentage (`x-kubernetes-int-or-string`). */
function intOrStringSchema(opts?: Options<CommonOptions<number | string>>): TSchema<number | string> {
  return make({
    "x-kubernetes-int-or-string": true,
    anyOf: [{ type: "integer" }, { type: "string" }],
    ...keywords(opts),
  });
}

/** Marks a property optional: it is left out of `required` and becomes `?:` in the type. */
function optional<S extends TSchema>(schema: S): TOptional<S> {
  return { ...schema, [OptionalMark]: true } as TOptional<S>;
}

/** A copy of a schema without the optional marker, as it goes into the CRD. */
function strip(schema: SchemaProps): SchemaProps {
  if (!(OptionalMark in schema)) return schema;
  const { [OptionalMark]: _mark, ...rest } = schema as SchemaProps & { [OptionalMark]?: true };
  return rest;
}

/** The builders, used as `T.String()`, `T.Object({...})`, and so on. */
export const T = {
  String: stringSchema,
  Enum: enumSchema,
  Integer: integerSchema,
  Number: numberSchema,
  Boolean: booleanSchema,
  Array: arraySchema,
  Object: objectSchema,
  Map: mapSchema,
  Unstructured: unstructuredSchema,
  Json: jsonSchema,
  IntOrString: intOrStringSchema,
  Optional: optional,
} as const;
