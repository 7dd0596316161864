// Rate limiting of duplicate events, as notification-controller's event server does with one
// token per event key per --rate-limit-interval (default 5m): the first event of a key passes,
// repeats within the interval are refused (the server answers 429, which Flux's recorders do
// not retry). Memory is bounded: expired keys are swept as new ones arrive.
import { Clock, systemClock } from "../runtime/clock";

export const DefaultRateLimitIntervalMs = 5 * 60_000;

export class DuplicateFilter {
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #until = new Map<string, number>();
  #nextSweep = 0;

  constructor(intervalMs = DefaultRateLimitIntervalMs, clock: Clock = systemClock) {
    this.#intervalMs = intervalMs;
    this.#clock = clock;
  }

  /** True the first time a key is seen within the interval; false for a repeat. */
  allow(key: string): boolean {
    const now = this.#clock.now();
    this.#sweep(now);
    if (this.#intervalMs <= 0) return true;
    const until = this.#until.get(key);
    if (until !== undefined && until > now) return false;
    this.#until.set(key, now + this.#intervalMs);
    return true;
  }

  get size(): number { return this.#until.size; }

  #sweep(now: number): void {
    if (now < this.#nextSweep) return;
    this.#nextSweep = now + Math.max(1000, this.#intervalMs);
    for (const [k, until] of this.#until) if (until <= now) this.#until.delete(k);
  }
}
