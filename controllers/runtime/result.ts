// What a reconcile returns. Expected outcomes are returned, not thrown; the loop
// (controller.ts) treats a thrown exception as a bug, logs it and retries with back-off.

export type Result =
  /** Converged: forget the key until a watch event brings it back. */
  | { readonly type: "done" }
  /** Converged for now: reconcile again after a fixed delay (e.g. spec.interval). */
  | { readonly type: "requeueAfter"; readonly afterMs: number }
  /** A transient failure: retry with per-key exponential back-off. */
  | { readonly type: "retry"; readonly error: Error }
  /** A failure retrying cannot fix (bad configuration): counted and logged, not retried. */
  | { readonly type: "terminal"; readonly error: Error };

export type ResultType = Result["type"];

const DONE: Result = Object.freeze({ type: "done" });

export const Result = {
  done: (): Result => DONE,
  requeueAfter: (afterMs: number): Result => {
    if (!Number.isFinite(afterMs) || afterMs < 0) throw new RangeError(`requeueAfter: invalid delay ${afterMs}`);
    return { type: "requeueAfter", afterMs };
  },
  retry: (error: unknown): Result => ({ type: "retry", error: toError(error) }),
  terminal: (error: unknown): Result => ({ type: "terminal", error: toError(error) }),
} as const;

/** Whether the reconcile succeeded (done or requeueAfter). */
export function isSuccess(r: Result): boolean {
  return r.type === "done" || r.type === "requeueAfter";
}

export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
