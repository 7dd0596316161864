// Taking back fields edited by hand, as Flux does before applying: fields owned by kubectl
// (apply or edit), by `before-first-apply`, or by our own manager as an Update are merged
// into our Apply entry in metadata.managedFields, so the next apply, which does not carry
// them, removes them. Deprecated annotations and labels are dropped in the same JSON patch.
// Objects marked `kustomize.toolkit.fluxcd.io/ssa: Merge` keep other managers' fields.
import { Unstructured } from "./object-id";

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
  [k: string]: unknown;
}

export type JsonPatchOp = { op: "remove" | "replace"; path: string; value?: unknown };

const ANNOTATIONS = ["kubectl.kubernetes.io/last-applied-configuration", "kustomize.toolkit.fluxcd.io/checksum", "fluxcd.io/sync-checksum"];
const LABELS = ["fluxcd.io/sync-gc-mark"];

const pointer = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");

/** The JSON patch that hands hand-edited fields to `fieldManager`, or undefined when none. */
export function cleanupPatch(existing: Unstructured, fieldManager: string): JsonPatchOp[] | undefined {
  const ops: JsonPatchOp[] = [];
  const meta = existing.metadata ?? {};
  for (const a of ANNOTATIONS) if (meta.annotations?.[a] !== undefined) ops.push({ op: "remove", path: `/metadata/annotations/${pointer(a)}` });
  for (const l of LABELS) if (meta.labels?.[l] !== undefined) ops.push({ op: "remove", path: `/metadata/labels/${pointer(l)}` });
  const entries = ((meta as { managedFields?: ManagedFieldsEntry[] }).managedFields ?? []);
  const foreign = (e: ManagedFieldsEntry) => !e.subresource && (
    (e.operation === "Apply" && e.manager?.startsWith("kubectl"))
    || (e.operation === "Update" && (e.manager?.startsWith("kubectl") || e.manager?.startsWith("before-first-apply") || e.manager?.startsWith(fieldManager))));
  if (entries.some(foreign)) {
    let ours = entries.find((e) => e.manager === fieldManager && e.operation === "Apply");
    const kept: ManagedFieldsEntry[] = [];
    for (const e of entries) {
      if (e === ours) continue;
      if (!foreign(e)) { kept.push(e); continue; }
      ours = ours ? { ...ours, fieldsV1: mergeFields(ours.fieldsV1, e.fieldsV1) } : { ...e, manager: fieldManager, operation: "Apply" };
    }
    ops.push({ op: "replace", path: "/metadata/managedFields", value: [...kept, ours] });
  }
  return ops.length ? ops : undefined;
}

/** Union of two FieldsV1 tries. */
function mergeFields(a: Record<string, unknown> | undefined, b: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!a) return b;
  if (!b) return a;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = k in out ? mergeFields(out[k] as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}
