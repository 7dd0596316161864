// The vocabulary of kstatus results and small readers of unstructured objects, shared by
// the generic and the per-kind rules.

export const HealthStatus = {
  Current: "Current",
  InProgress: "InProgress",
  Failed: "Failed",
  Terminating: "Terminating",
  NotFound: "NotFound",
  Unknown: "Unknown",
} as const;
export type HealthStatus = (typeof HealthStatus)[keyof typeof HealthStatus];

export interface HealthResult {
  status: HealthStatus;
  message: string;
}

export type Obj = Record<string, unknown>;
export interface Cond { type?: string; status?: string; reason?: string; message?: string }

export const current = (message: string): HealthResult => ({ status: HealthStatus.Current, message });
export const inProgress = (message: string): HealthResult => ({ status: HealthStatus.InProgress, message });
export const failed = (message: string): HealthResult => ({ status: HealthStatus.Failed, message });

/** Reads a nested field by dotted path. */
export function field(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split(".")) {
    if (typeof cur !== "object" || cur === null) return undefined;
    cur = (cur as Obj)[p];
  }
  return cur;
}

export function intField(obj: unknown, path: string, dflt: number): number {
  const v = field(obj, path);
  return typeof v === "number" ? v : dflt;
}

export function conditionsOf(obj: unknown): Cond[] {
  const c = field(obj, "status.conditions");
  return Array.isArray(c) ? (c as Cond[]) : [];
}
