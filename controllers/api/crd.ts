/**
 * Kind definitions and the CustomResourceDefinitions built from them.
 *
 * A kind file declares one `KindVersion` (names, schemas, printer columns) with `defineKind`,
 * which returns the definition together with its CRD manifest (apiextensions.k8s.io/v1).
 */
import { T, type SchemaProps, type TSchema } from "./schema";

/** Names of a kind, as in the CRD's `spec.names` plus group and version. */
export interface KindNames {
  readonly group: string;
  readonly version: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
}

/** A column `kubectl get` prints. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description?: string;
  format?: string;
  priority?: number;
}

/** One served version of a kind. */
export interface KindVersion {
  readonly names: KindNames;
  readonly scope: "Namespaced" | "Cluster";
  readonly description: string;
  readonly spec: TSchema;
  readonly status: TSchema;
  readonly printerColumns: readonly PrinterColumn[];
  /** Served but not stored versions are for conversion only; we store the one version we serve. */
  readonly served?: boolean;
  readonly storage?: boolean;
}

/** The apiextensions.k8s.io/v1 CustomResourceDefinition shape we emit. */
export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    scope: "Namespaced" | "Cluster";
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: SchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }[];
  };
}

/** Printer columns every Flux kind ends with (or, for some sources, starts with). */
export const ageColumn: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
export const readyColumn: PrinterColumn = {
  name: "Ready",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
export const statusColumn: PrinterColumn = {
  name: "Status",
  type: "string",
  jsonPath: '.status.conditions[?(@.type=="Ready")].message',
};

/**
 * Flux's CRDs carry this annotation so that a Flux Kustomization applying them (bootstrap)
 * does not run variable substitution over the schema text.
 */
const crdAnnotations = { "kustomize.toolkit.fluxcd.io/substitute": "disabled" };

/** The root schema of a kind: the standard envelope around its spec and status. */
export function rootSchema(def: KindVersion): SchemaProps {
  return T.Object(
    {
      apiVersion: T.Optional(T.String("Versioned schema of this representation of the object (group/version).")),
      kind: T.Optional(T.String("REST resource this object represents, in CamelCase.")),
      metadata: T.Optional(T.Object({})),
      spec: T.Optional(def.spec),
      status: T.Optional(def.status),
    },
    def.description,
  );
}

/** Builds the CRD of a kind from its versions (all of the same group and kind). */
export function customResourceDefinition(versions: readonly KindVersion[]): CustomResourceDefinition {
  const first = versions[0];
  if (!first) throw new Error("a CustomResourceDefinition needs at least one version");
  const { names, scope } = first;
  for (const v of versions) {
    if (v.names.group !== names.group || v.names.kind !== names.kind) {
      throw new Error(`${v.names.apiVersion} ${v.names.kind} does not belong to the ${names.kind} CRD`);
    }
  }
  const storage = versions.filter((v) => v.storage ?? true);
  if (storage.length !== 1) throw new Error(`${names.kind} CRD needs exactly one storage version`);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${names.plural}.${names.group}`, annotations: { ...crdAnnotations } },
    spec: {
      group: names.group,
      names: {
        kind: names.kind,
        listKind: names.listKind,
        plural: names.plural,
        singular: names.singular,
        ...(names.shortNames.length > 0 ? { shortNames: [...names.shortNames] } : {}),
        ...(names.categories.length > 0 ? { categories: [...names.categories] } : {}),
      },
      scope,
      versions: versions.map((v) => ({
        name: v.names.version,
        served: v.served ?? true,
        storage: v.storage ?? true,
        schema: { openAPIV3Schema: rootSchema(v) },
        subresources: { status: {} },
        additionalPrinterColumns: v.printerColumns.map((c) => ({ ...c })),
      })),
    },
  };
}

/** Declares a kind version; returns it with its single-version CRD. */
export function defineKind<D extends KindVersion>(def: D): D & { crd: CustomResourceDefinition } {
  return { ...def, crd: customResourceDefinition([def]) };
}
