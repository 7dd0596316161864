// Client-side rate limiting of API requests (--kube-api-qps, --kube-api-burst): a token
// bucket holding up to `burst` tokens, refilled at `qps` per second. Waiters are served FIFO.
import { CancelTimer, Clock, systemClock } from "./clock";

export interface TokenBucketOptions {
  /** Sustained requests per second; 0 or less disables limiting. */
  qps: number;
  /** Requests allowed at once after a quiet period; at least 1. */
  burst: number;
  clock?: Clock;
}

interface Waiter { resolve: () => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }

export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #clock: Clock;
  #tokens: number;
  #last: number;
  readonly #waiters: Waiter[] = [];
  #timer?: CancelTimer;

  constructor(opts: TokenBucketOptions) {
    this.#qps = opts.qps;
    this.#burst = Math.max(1, Math.floor(opts.burst));
    this.#clock = opts.clock ?? systemClock;
    this.#tokens = this.#burst;
    this.#last = this.#clock.now();
  }

  /** Takes a token now if one is available. */
  tryTake(): boolean {
    if (this.#qps <= 0) return true;
    this.#refill();
    if (this.#waiters.length === 0 && this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }

  /** Waits for a token; rejects with the signal's reason when aborted while waiting. */
  take(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryTake()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.#waiters.push(w);
      this.#schedule();
    });
  }

  #refill(): void {
    const now = this.#clock.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
  }

  #schedule(): void {
    if (this.#timer || this.#waiters.length === 0) return;
    this.#refill();
    const waitMs = this.#tokens >= 1 ? 0 : ((1 - this.#tokens) / this.#qps) * 1000;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = undefined;
      this.#refill();
      while (this.#waiters.length > 0 && this.#tokens >= 1) {
        this.#tokens -= 1;
        const w = this.#waiters.shift()!;
        if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
        w.resolve();
      }
      this.#schedule();
    }, Math.ceil(waitMs));
  }
}
