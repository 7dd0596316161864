// Object identity as Flux's inventory writes it: group, kind, namespace and name, formatted
// as `Kind/namespace/name` in messages and `<namespace>_<name>_<group>_<kind>` in inventories.
import { KubeObject } from "../keys";

export interface ObjMetadata {
  readonly group: string;
  readonly kind: string;
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/** A desired or live object: apiVersion and kind are required here. */
export type Unstructured = KubeObject & { apiVersion: string; kind: string; [field: string]: unknown };

/** RBAC names may hold colons, which inventory ids transcode to a double underscore. */
const RBAC_KINDS = new Set(["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]);
const RBAC_GROUP = "rbac.authorization.k8s.io";

export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? "" : apiVersion.slice(0, i);
}

export function versionOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i < 0 ? apiVersion : apiVersion.slice(i + 1);
}

export function objMetadataOf(obj: KubeObject): ObjMetadata {
  return {
    group: groupOf(obj.apiVersion ?? ""), kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace ?? "", name: obj.metadata?.name ?? "",
  };
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects. */
export function formatObjMetadata(id: ObjMetadata): string {
  return id.namespace ? `${id.kind}/${id.namespace}/${id.name}` : `${id.kind}/${id.name}`;
}

export function formatObject(obj: KubeObject): string {
  return formatObjMetadata(objMetadataOf(obj));
}

/** The inventory id: `<namespace>_<name>_<group>_<kind>`. */
export function inventoryId(id: ObjMetadata): string {
  const name = id.group === RBAC_GROUP && RBAC_KINDS.has(id.kind) ? id.name.replaceAll(":", "__") : id.name;
  return `${id.namespace}_${name}_${id.group}_${id.kind}`;
}

/** Parses an inventory id; the name is the middle part, so it may itself contain `_`. */
export function parseInventoryId(s: string): ObjMetadata {
  const first = s.indexOf("_");
  const last = s.lastIndexOf("_");
  const beforeLast = s.lastIndexOf("_", last - 1);
  if (first < 0 || last <= first || beforeLast < first) throw new Error(`unable to parse stored object metadata: ${s}`);
  return {
    namespace: s.slice(0, first),
    name: s.slice(first + 1, beforeLast).replaceAll("__", ":"),
    group: s.slice(beforeLast + 1, last),
    kind: s.slice(last + 1),
  };
}

export function sameObject(a: ObjMetadata, b: ObjMetadata): boolean {
  return a.group === b.group && a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
}
