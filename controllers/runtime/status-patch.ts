// One status write per reconcile: a merge patch of /status computed from the object as read
// and as reconciled, guarded by resourceVersion. On conflict the object is read again and
// only our changes are re-applied to it (conditions merged by type, so conditions written by
// others survive), then retried. A vanished object is not an error.
import { Condition } from "./conditions";
import { deepClone, deepEqual, applyMergePatch, mergePatchDiff } from "./json-merge";
import { KubeClient, ResourceRef } from "./kube";
import { isConflict, isNotFound } from "./kube-errors";
import { KubeObject, keyOf } from "./keys";

type Status = Record<string, unknown> & { conditions?: Condition[] };
type WithStatus = KubeObject & { status?: Status };

/** What a reconcile changed in status, replayable onto a newer copy. */
export interface StatusChanges {
  /** Merge patch of every status field except conditions. */
  fields?: unknown;
  /** Conditions added or changed. */
  setConditions: Condition[];
  /** Condition types removed. */
  removeConditions: string[];
}

export interface StatusPatchOptions {
  /** Field manager recorded for the status write (per controller). */
  fieldManager?: string;
  /** Conflict retries before giving up; default 5. */
  maxRetries?: number;
  signal?: AbortSignal;
}

export function statusChanges(before: Status | undefined, after: Status | undefined): StatusChanges {
  const { conditions: bc = [], ...bf } = before ?? {};
  const { conditions: ac = [], ...af } = after ?? {};
  return {
    fields: mergePatchDiff(bf, af),
    setConditions: ac.filter((c) => !deepEqual(c, bc.find((b) => b.type === c.type))),
    removeConditions: bc.filter((b) => !ac.some((c) => c.type === b.type)).map((b) => b.type),
  };
}

export function hasStatusChanges(ch: StatusChanges): boolean {
  return ch.fields !== undefined || ch.setConditions.length > 0 || ch.removeConditions.length > 0;
}

/** `base` with `changes` replayed onto it (a new object). */
export function applyStatusChanges(base: Status | undefined, changes: StatusChanges): Status {
  const { conditions = [], ...fields } = base ?? {};
  const out = (changes.fields === undefined ? deepClone(fields) : applyMergePatch(fields, changes.fields)) as Status;
  const conds = deepClone(conditions).filter((c) => !changes.removeConditions.includes(c.type));
  for (const c of changes.setConditions) {
    const i = conds.findIndex((x) => x.type === c.type);
    if (i >= 0) conds[i] = deepClone(c);
    else conds.push(deepClone(c));
  }
  if (conds.length > 0 || base?.conditions) out.conditions = conds;
  return out;
}

/**
 * Writes the status changes from `before` (as read) to `after` (as reconciled). Returns the
 * object the server returned, `after` unchanged when there was nothing to write, or undefined
 * when the object is gone. `after.metadata.resourceVersion` is updated on success.
 */
export async function patchStatus<T extends WithStatus>(client: KubeClient, res: ResourceRef, before: T, after: T,
  opts: StatusPatchOptions = {}): Promise<T | undefined> {
  const changes = statusChanges(before.status, after.status);
  if (!hasStatusChanges(changes)) return after;
  const key = keyOf(after);
  let base: WithStatus = before;
  let rv = after.metadata?.resourceVersion;
  for (let attempt = 0; ; attempt++) {
    const diff = mergePatchDiff(base.status ?? {}, applyStatusChanges(base.status, changes));
    if (diff === undefined) return base as T;
    try {
      const written = await client.patchStatus<T>(res, key, { metadata: { resourceVersion: rv }, status: diff },
        { fieldManager: opts.fieldManager, signal: opts.signal });
      if (after.metadata) after.metadata.resourceVersion = written.metadata?.resourceVersion;
      return written;
    } catch (e) {
      if (isNotFound(e)) return undefined;
      if (!isConflict(e) || attempt >= (opts.maxRetries ?? 5)) {
        throw new Error(`patching the status of ${res.kind ?? res.plural} ${key.namespace}/${key.name}: ${(e as Error).message}`, { cause: e });
      }
      const fresh = await client.get<T>(res, key, { signal: opts.signal });
      if (!fresh) return undefined;
      base = fresh;
      rv = fresh.metadata?.resourceVersion;
    }
  }
}
