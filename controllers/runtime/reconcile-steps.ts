// Small steps every Flux reconciler takes: honour reconcile.fluxcd.io/requestedAt, skip
// suspended objects, requeue at spec.interval with jitter.
import { jittered } from "./backoff";
import { parseDuration } from "./duration";
import { KubeObject } from "./keys";
import { Result } from "./result";

/** Set by `flux reconcile` to ask for a reconcile now; its value is opaque (a timestamp). */
export const RECONCILE_REQUESTED_AT = "reconcile.fluxcd.io/requestedAt";

type WithStatus = KubeObject & { status?: Record<string, unknown> };

/** The value of the reconcile.fluxcd.io/requestedAt annotation, if set. */
export function reconcileRequestedAt(obj: KubeObject): string | undefined {
  return obj.metadata?.annotations?.[RECONCILE_REQUESTED_AT] || undefined;
}

/**
 * Copies reconcile.fluxcd.io/requestedAt to status.lastHandledReconcileAt (how `flux
 * reconcile` learns its request was handled). True when the status changed.
 */
export function markReconcileRequestHandled(obj: WithStatus): boolean {
  const requested = reconcileRequestedAt(obj);
  if (requested === undefined) return false;
  const status = (obj.status ??= {});
  if (status.lastHandledReconcileAt === requested) return false;
  status.lastHandledReconcileAt = requested;
  return true;
}

/** spec.suspend === true. */
export function isSuspended(obj: KubeObject): boolean {
  const spec = (obj as { spec?: { suspend?: unknown } }).spec;
  return spec?.suspend === true;
}

/** A Go duration string (spec.interval) or milliseconds, as milliseconds. */
export function intervalMs(interval: string | number): number {
  return typeof interval === "number" ? interval : parseDuration(interval);
}

/**
 * Requeue at `interval` moved by up to ±`jitter` (a fraction: --interval-jitter-percentage/100),
 * so objects created together do not reconcile in lockstep.
 */
export function requeueAtInterval(interval: string | number, jitter = 0.05, random?: () => number): Result {
  return Result.requeueAfter(jittered(intervalMs(interval), jitter, random));
}
