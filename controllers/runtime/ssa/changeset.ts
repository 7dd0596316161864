// The outcome of an apply or delete, one entry per object, as Flux reports it: the subject
// `Kind/namespace/name` and an action (created, configured, unchanged, deleted, skipped).
import { ObjMetadata, formatObjMetadata } from "./object-id";

export const Action = {
  Created: "created",
  Configured: "configured",
  Unchanged: "unchanged",
  Deleted: "deleted",
  Skipped: "skipped",
  Unknown: "unknown",
} as const;
export type Action = (typeof Action)[keyof typeof Action];

export interface ChangeSetEntry {
  readonly id: ObjMetadata;
  /** apiVersion of the object, e.g. `apps/v1` (the inventory's `v` keeps only the version). */
  readonly apiVersion: string;
  /** `Kind/namespace/name`. */
  readonly subject: string;
  readonly action: Action;
}

export function changeSetEntry(id: ObjMetadata, apiVersion: string, action: Action): ChangeSetEntry {
  return { id, apiVersion, subject: formatObjMetadata(id), action };
}

/** Whether the action mutated the cluster (what Flux puts in its events). */
export function hasChanged(action: Action): boolean {
  return action !== Action.Skipped && action !== Action.Unchanged;
}

/** One `<subject> <action>` line per entry. */
export function formatChangeSet(entries: readonly ChangeSetEntry[], onlyChanged = false): string {
  return entries.filter((e) => !onlyChanged || hasChanged(e.action)).map((e) => `${e.subject} ${e.action}`).join("\n");
}

/** `{ subject: action }` for structured logs. */
export function changeSetMap(entries: readonly ChangeSetEntry[]): Record<string, Action> {
  return Object.fromEntries(entries.map((e) => [e.subject, e.action]));
}
