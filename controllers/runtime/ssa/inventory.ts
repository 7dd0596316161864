// The inventory Flux keeps in status (`entries: [{id, v}]`): built from a change set,
// listed back as object references, and diffed to find what left the set (to prune).
import { ChangeSetEntry } from "./changeset";
import type { ObjectRef } from "./manager";
import { inventoryId, parseInventoryId, versionOf } from "./object-id";
import { compareObjMetadata } from "./sort";

export interface InventoryEntry { id: string; v: string }
export interface Inventory { entries: InventoryEntry[] }

/** Every entry of the change set (skipped ones too, as Flux records them). */
export function inventoryFromChangeSet(entries: readonly ChangeSetEntry[]): Inventory {
  const seen = new Set<string>();
  const out: InventoryEntry[] = [];
  for (const e of entries) {
    const id = inventoryId(e.id);
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ id, v: versionOf(e.apiVersion) });
  }
  return { entries: out };
}

/** Object references of an inventory, in apply order. Unparseable ids are dropped. */
export function inventoryRefs(inv: Inventory | undefined): ObjectRef[] {
  const refs: ObjectRef[] = [];
  for (const e of inv?.entries ?? []) {
    let id;
    try { id = parseInventoryId(e.id); } catch { continue; }
    refs.push({ ...id, apiVersion: id.group ? `${id.group}/${e.v}` : e.v });
  }
  return refs.sort(compareObjMetadata);
}

/** Objects in `before` that are not in `after` (what to prune). */
export function inventoryDiff(before: Inventory | undefined, after: Inventory | undefined): ObjectRef[] {
  const keep = new Set((after?.entries ?? []).map((e) => e.id));
  return inventoryRefs({ entries: (before?.entries ?? []).filter((e) => !keep.has(e.id)) });
}

/** Adds refs missing from the inventory (objects whose prune did not succeed). */
export function inventoryMerge(inv: Inventory, refs: readonly ObjectRef[]): void {
  const seen = new Set(inv.entries.map((e) => e.id));
  for (const r of refs) {
    const id = inventoryId(r);
    if (!seen.has(id)) inv.entries.push({ id, v: versionOf(r.apiVersion) });
    seen.add(id);
  }
}
