// Time as an injected dependency: the queue, rate limiter, leader elector and watch take a
// Clock, so their logic can be driven step by step in unit tests with ManualClock.

/** Cancels a timer created by `Clock.setTimer`; calling it twice is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): CancelTimer;
}

/** Node fires any timer longer than 2^31-1 ms (~24.8 days) after 1 ms, with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` made safe for a Node timer or a child-process/socket `timeout` option: 0..MAX_TIMER_MS. */
export function timerMs(ms: number): number {
  return ms > 0 ? Math.min(ms, MAX_TIMER_MS) : 0;
}

/**
 * The process clock. Timers are unref'd so a pending requeue never keeps the process alive.
 * A delay past Node's limit (an `interval: 720h`) is waited out in steps, not fired at once.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const at = Date.now() + (ms > 0 ? ms : 0);
    let t: ReturnType<typeof setTimeout>;
    const arm = () => {
      const left = at - Date.now();
      t = setTimeout(left > MAX_TIMER_MS ? arm : fn, timerMs(left));
      t.unref?.();
    };
    arm();
    return () => clearTimeout(t);
  },
};

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => { cancel(); reject(signal!.reason); };
    const cancel = clock.setTimer(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

interface ManualTimer { at: number; seq: number; fn: () => void }

/**
 * A clock that moves only when told to. `advance(ms)` fires due timers in time order,
 * letting promise callbacks run between them, so code awaiting a timer observes it in turn.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<ManualTimer>();

  constructor(start = 1_700_000_000_000) { this.#now = start; }

  now(): number { return this.#now; }

  setTimer(fn: () => void, ms: number): CancelTimer {
    const timer: ManualTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => { this.#timers.delete(timer); };
  }

  /** Number of timers not yet fired or cancelled. */
  pendingTimers(): number { return this.#timers.size; }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      await flushPromises();
      const next = [...this.#timers].filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.delete(next);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = target;
    await flushPromises();
  }
}

/** Lets pending promise continuations run (a few macrotask turns). */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}
