// Apply order by kind, as Flux's ssa package orders a change set: definitions and policies
// first (CRDs, Namespaces, RBAC, ...), webhooks last, everything else by group and kind in
// between. Pruning walks the same order backwards.
import { ObjMetadata } from "./object-id";

const FIRST = [
  "CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterClass", "RuntimeClass", "PriorityClass",
  "StorageClass", "VolumeSnapshotClass", "IngressClass", "GatewayClass", "ClusterRoleBinding", "ResourceQuota",
  "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret", "Service", "LimitRange", "Deployment",
  "StatefulSet", "CronJob", "PodDisruptionBudget",
];
const LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

const RANK = new Map<string, number>([
  ...FIRST.map((k, i): [string, number] => [k, i - FIRST.length]),
  ...LAST.map((k, i): [string, number] => [k, i + 1]),
]);

function rank(kind: string): number { return RANK.get(kind) ?? 0; }

/** Negative when `a` is applied before `b`. */
export function compareObjMetadata(a: ObjMetadata, b: ObjMetadata): number {
  if (a.group !== b.group || a.kind !== b.kind) {
    const ra = rank(a.kind);
    const rb = rank(b.kind);
    if (ra !== rb) return ra - rb;
    if (a.group !== b.group) return a.group < b.group ? -1 : 1;
    return a.kind < b.kind ? -1 : 1;
  }
  if (a.namespace !== b.namespace) return a.namespace < b.namespace ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Sorts in place into apply order and returns the array. */
export function sortForApply<T>(items: T[], id: (t: T) => ObjMetadata): T[] {
  return items.sort((x, y) => compareObjMetadata(id(x), id(y)));
}
