// Delay arithmetic shared by the queue, the watch and the leader elector.

export interface BackoffOptions {
  /** First delay, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
  /** Fraction (0..1) by which a delay is randomly shortened, so retries spread out. */
  jitter?: number;
}

export const defaultBackoff: Readonly<Required<BackoffOptions>> = { baseMs: 1000, maxMs: 5 * 60_000, jitter: 0.2 };

/**
 * The delay before retry number `failures` (0 for the first retry): base * 2^failures, capped
 * at max, then shortened by up to `jitter` of itself. Never exceeds max, never below 0.
 */
export function backoffDelay(opts: BackoffOptions, failures: number, random: () => number = Math.random): number {
  const jitter = clamp01(opts.jitter ?? defaultBackoff.jitter);
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(0, failures), 52));
  return Math.max(0, exp * (1 - jitter * random()));
}

/**
 * `ms` moved randomly by up to ±`fraction` of itself (Flux's interval jitter: a 10m interval
 * with 0.05 lands between 9m30s and 10m30s).
 */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  const f = clamp01(fraction);
  return Math.max(0, ms * (1 + f * (2 * random() - 1)));
}

function clamp01(x: number): number { return Math.min(1, Math.max(0, x)); }
