// Garbage collection: delete objects in reverse apply order (workloads before their
// namespaces and CRDs), one kind at a time with the kind's objects in parallel. An object is
// deleted only while it still carries the owner labels (another owner may have taken it
// over) and carries none of the exclusion labels/annotations (`prune: disabled`). Gone
// objects count as deleted; failures are collected and reported together.
import { KubeObject } from "../keys";
import { Action, ChangeSetEntry, changeSetEntry } from "./changeset";
import { SsaError, apiMessage } from "./errors";
import { mapLimitSettled } from "./limit";
import type { ObjectRef, ResourceManager } from "./manager";
import { anyInMetadata, matchesLabels } from "./metadata";
import { formatObjMetadata } from "./object-id";
import { compareObjMetadata } from "./sort";

export interface DeleteOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Objects carrying any of these (label or annotation) are skipped. */
  exclusions?: Record<string, string>;
  signal?: AbortSignal;
}

/** A failed delete; `changeSet` says what happened to each object. */
export class DeleteError extends SsaError {
  override readonly name = "DeleteError";
  constructor(message: string, readonly changeSet: ChangeSetEntry[]) { super(message); }
}

export async function deleteAll(m: ResourceManager, refs: ObjectRef[], opts: DeleteOptions): Promise<ChangeSetEntry[]> {
  const sorted = [...refs].sort((a, b) => compareObjMetadata(b, a));
  const batches: ObjectRef[][] = [];
  for (const r of sorted) {
    const last = batches[batches.length - 1];
    if (last && last[0].group === r.group && last[0].kind === r.kind) last.push(r);
    else batches.push([r]);
  }
  const entries: ChangeSetEntry[] = [];
  const errors: string[] = [];
  for (const batch of batches) {
    const results = await mapLimitSettled(batch, m.concurrency, (r) => deleteOne(m, r, opts));
    results.forEach((res, i) => {
      if (res.ok) entries.push(res.value);
      else {
        entries.push(changeSetEntry(batch[i], batch[i].apiVersion, Action.Unknown));
        errors.push((res.error as Error).message);
      }
    });
  }
  if (errors.length) throw new DeleteError(`delete failed, errors: ${errors.join(";")};`, entries);
  return entries;
}

async function deleteOne(m: ResourceManager, r: ObjectRef, opts: DeleteOptions): Promise<ChangeSetEntry> {
  const subject = formatObjMetadata(r);
  const mapping = await m.mapper.tryMapping(r.apiVersion, r.kind, opts.signal);
  // A kind no longer served (its CRD is gone) has no objects left.
  if (!mapping) return changeSetEntry(r, r.apiVersion, Action.Deleted);
  const key = { namespace: mapping.namespaced ? r.namespace : "", name: r.name };
  let live: KubeObject | undefined;
  try {
    live = await m.client.get(mapping, key, { signal: opts.signal });
  } catch (e) {
    throw new SsaError(`${subject} query failed: ${apiMessage(e)}`, subject, { cause: e });
  }
  if (!live) return changeSetEntry(r, r.apiVersion, Action.Deleted);
  if (!matchesLabels(live, m.ownerLabels) || anyInMetadata(live, opts.exclusions)) return changeSetEntry(r, r.apiVersion, Action.Skipped);
  try {
    await m.client.delete(mapping, key, { propagationPolicy: opts.propagationPolicy ?? "Background", signal: opts.signal });
  } catch (e) {
    throw new SsaError(`${subject} delete failed: ${apiMessage(e)}`, subject, { cause: e });
  }
  return changeSetEntry(r, r.apiVersion, Action.Deleted);
}
