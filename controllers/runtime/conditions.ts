// Conditions on an object's status, changed only through these helpers: lastTransitionTime
// moves only when the status value changes, observedGeneration is stamped from
// metadata.generation. Types and reasons are plain strings here; api/meta names them.

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  /** CamelCase, e.g. "Succeeded". */
  reason: string;
  message: string;
  /** RFC 3339, seconds precision (metav1.Time). */
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** What a caller sets; the helpers fill in the times and the generation. */
export type ConditionInput = Pick<Condition, "type" | "status" | "reason"> & { message?: string };

export interface ObjectWithConditions {
  metadata?: { generation?: number };
  status?: { conditions?: Condition[]; observedGeneration?: number; [field: string]: unknown };
}

/** The condition types every Flux object uses (kstatus "abnormal-true" Reconciling/Stalled). */
export const ConditionType = {
  Ready: "Ready",
  Reconciling: "Reconciling",
  Stalled: "Stalled",
} as const;

/** The API server rejects condition messages longer than this. */
export const MAX_MESSAGE_LENGTH = 32768;

export function getConditions(obj: ObjectWithConditions): readonly Condition[] {
  return obj.status?.conditions ?? [];
}

export function getCondition(obj: ObjectWithConditions, type: string): Condition | undefined {
  return obj.status?.conditions?.find((c) => c.type === type);
}

/**
 * Sets (adds or updates) a condition. When its status is unchanged the previous
 * lastTransitionTime is kept; reason, message and observedGeneration are always updated.
 * Returns the stored condition.
 */
export function setCondition(obj: ObjectWithConditions, input: ConditionInput, now: Date = new Date()): Condition {
  const status = (obj.status ??= {});
  const conditions = (status.conditions ??= []);
  const prev = conditions.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: truncate(input.message ?? ""),
    lastTransitionTime: prev && prev.status === input.status ? prev.lastTransitionTime : metaTime(now),
    ...(obj.metadata?.generation !== undefined ? { observedGeneration: obj.metadata.generation } : {}),
  };
  if (prev) conditions[conditions.indexOf(prev)] = next;
  else conditions.push(next);
  return next;
}

export function markTrue(obj: ObjectWithConditions, type: string, reason: string, message = "", now?: Date): Condition {
  return setCondition(obj, { type, status: "True", reason, message }, now);
}

export function markFalse(obj: ObjectWithConditions, type: string, reason: string, message = "", now?: Date): Condition {
  return setCondition(obj, { type, status: "False", reason, message }, now);
}

export function markUnknown(obj: ObjectWithConditions, type: string, reason: string, message = "", now?: Date): Condition {
  return setCondition(obj, { type, status: "Unknown", reason, message }, now);
}

/** Reconciling=True: work is in progress (kstatus InProgress). */
export function markReconciling(obj: ObjectWithConditions, reason: string, message = "", now?: Date): Condition {
  return markTrue(obj, ConditionType.Reconciling, reason, message, now);
}

/** Stalled=True: the object cannot progress without a change from the user. */
export function markStalled(obj: ObjectWithConditions, reason: string, message = "", now?: Date): Condition {
  return markTrue(obj, ConditionType.Stalled, reason, message, now);
}

/** Removes a condition; true when it was there. */
export function removeCondition(obj: ObjectWithConditions, type: string): boolean {
  const list = obj.status?.conditions;
  const i = list?.findIndex((c) => c.type === type) ?? -1;
  if (i < 0) return false;
  list!.splice(i, 1);
  return true;
}

export function isTrue(obj: ObjectWithConditions, type: string): boolean {
  return getCondition(obj, type)?.status === "True";
}

export function isFalse(obj: ObjectWithConditions, type: string): boolean {
  return getCondition(obj, type)?.status === "False";
}

/**
 * Ready=True and not stale: the Ready condition (and status.observedGeneration, when set)
 * refer to the current metadata.generation.
 */
export function isReady(obj: ObjectWithConditions): boolean {
  const ready = getCondition(obj, ConditionType.Ready);
  if (ready?.status !== "True") return false;
  const gen = obj.metadata?.generation;
  if (gen === undefined) return true;
  if (ready.observedGeneration !== undefined && ready.observedGeneration !== gen) return false;
  const observed = obj.status?.observedGeneration;
  return observed === undefined || observed === gen;
}

/** metav1.Time: RFC 3339 in UTC with whole seconds. */
export function metaTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...`;
}
