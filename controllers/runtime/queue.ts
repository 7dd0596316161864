// The key work queue. Keys (not objects) wait here; a key is never handed to two workers at
// once, a key added while in flight is run again after it finishes, failures back off per key.
import { BackoffOptions, backoffDelay, defaultBackoff, jittered } from "./backoff";
import { CancelTimer, Clock, systemClock } from "./clock";

export interface WorkQueueOptions {
  clock?: Clock;
  /** Per-key failure back-off (`addRateLimited`). */
  backoff?: BackoffOptions;
  /** Source of randomness for jitter; tests pass a constant. */
  random?: () => number;
  /** Called whenever the number of ready keys changes (the depth metric). */
  onDepthChange?: (depth: number) => void;
}

export interface ShutdownReport<K> {
  /** True when every in-flight key finished before the deadline. */
  drained: boolean;
  /** Keys still in flight at the deadline. */
  abandoned: K[];
  /** Ready or delayed keys that were never started. */
  dropped: number;
}

interface Delayed<K> { at: number; seq: number; key: K }

/** Raised into `onError` of `run` when a handler throws (handlers should not). */
export type WorkerErrorHandler<K> = (key: K, error: unknown) => void;

export class WorkQueue<K = string> {
  readonly #clock: Clock;
  readonly #backoff: Required<BackoffOptions>;
  readonly #random: () => number;
  readonly #onDepth?: (depth: number) => void;

  /** Keys waiting to run (ready, or in flight and to be re-run). */
  readonly #dirty = new Set<K>();
  /** Ready keys in FIFO order; each is in #dirty and not in #processing. */
  #ready: K[] = [];
  #head = 0;
  readonly #processing = new Set<K>();
  readonly #waiters: Array<(key: K | undefined) => void> = [];

  /** Delayed adds: a min-heap by time with lazy deletion; #delayedAt is authoritative. */
  #heap: Delayed<K>[] = [];
  readonly #delayedAt = new Map<K, number>();
  #seq = 0;
  #timer?: { at: number; cancel: CancelTimer };

  readonly #failures = new Map<K, number>();
  #shuttingDown = false;
  #dropped = 0;
  #idle?: () => void;

  constructor(opts: WorkQueueOptions = {}) {
    this.#clock = opts.clock ?? systemClock;
    this.#backoff = { ...defaultBackoff, ...opts.backoff };
    this.#random = opts.random ?? Math.random;
    this.#onDepth = opts.onDepthChange;
  }

  /** Ready keys not yet handed to a worker. */
  depth(): number { return this.#ready.length - this.#head; }
  /** Keys scheduled for later. */
  delayedCount(): number { return this.#delayedAt.size; }
  inFlight(): K[] { return [...this.#processing]; }
  isShuttingDown(): boolean { return this.#shuttingDown; }
  /** Consecutive failures recorded for `key` since its last `forget`. */
  failures(key: K): number { return this.#failures.get(key) ?? 0; }

  /** Makes `key` ready now. A no-op when it is already waiting; deferred while in flight. */
  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    this.#pushReady(key);
  }

  /**
   * Makes `key` ready after `ms` (moved by ±`jitter` of itself). When the key is already
   * scheduled, the earlier time wins. A schedule is superseded once the key starts running:
   * each run decides the next one.
   */
  addAfter(key: K, ms: number, jitter = 0): void {
    if (this.#shuttingDown) return;
    const delay = jitter > 0 ? jittered(ms, jitter, this.#random) : ms;
    if (delay <= 0) return this.add(key);
    const at = this.#clock.now() + delay;
    const prev = this.#delayedAt.get(key);
    if (prev !== undefined && prev <= at) return;
    this.#delayedAt.set(key, at);
    this.#heapPush({ at, seq: this.#seq++, key });
    this.#armTimer();
  }

  /** Schedules a retry of `key` after its next back-off delay; returns that delay in ms. */
  addRateLimited(key: K): number {
    const n = this.failures(key);
    this.#failures.set(key, n + 1);
    const delay = backoffDelay(this.#backoff, n, this.#random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the back-off of `key` (after a success or a terminal failure). */
  forget(key: K): void { this.#failures.delete(key); }

  /** The next ready key, waiting for one if needed; undefined once the queue shuts down. */
  get(): Promise<K | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#popReady();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` finished; re-queues it when it was added again while in flight. */
  done(key: K): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#pushReady(key);
    if (this.#processing.size === 0) this.#idle?.();
  }

  /**
   * Runs `concurrency` workers that take keys and call `handler`, until shutdown. A throwing
   * handler is a bug: it is reported to `onError` and the key is retried with back-off.
   */
  async run(concurrency: number, handler: (key: K) => Promise<void>, onError?: WorkerErrorHandler<K>): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
        } catch (e) {
          onError?.(key, e);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  }

  /**
   * Stops handing out keys, drops ready and delayed keys, and waits up to `drainMs` for
   * in-flight keys to finish. Keys still running at the deadline are reported as abandoned.
   */
  async shutdown(drainMs: number): Promise<ShutdownReport<K>> {
    if (!this.#shuttingDown) {
      this.#shuttingDown = true;
      this.#timer?.cancel();
      this.#timer = undefined;
      const dropped = this.depth() + this.#delayedAt.size;
      this.#ready = [];
      this.#head = 0;
      this.#heap = [];
      this.#delayedAt.clear();
      for (const k of [...this.#dirty]) if (!this.#processing.has(k)) this.#dirty.delete(k);
      this.#dropped = dropped;
      this.#emitDepth();
      for (const w of this.#waiters.splice(0)) w(undefined);
    }
    if (this.#processing.size > 0) {
      await new Promise<void>((resolve) => {
        const cancel = this.#clock.setTimer(() => { this.#idle = undefined; resolve(); }, drainMs);
        this.#idle = () => { cancel(); this.#idle = undefined; resolve(); };
      });
    }
    const abandoned = [...this.#processing];
    return { drained: abandoned.length === 0, abandoned, dropped: this.#dropped };
  }

  #pushReady(key: K): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#take(key);
      waiter(key);
      return;
    }
    this.#ready.push(key);
    this.#emitDepth();
  }

  #popReady(): K | undefined {
    if (this.#head >= this.#ready.length) return undefined;
    const key = this.#ready[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#head);
      this.#head = 0;
    }
    this.#take(key);
    this.#emitDepth();
    return key;
  }

  /** Moves a ready key to in-flight; its pending delayed add is superseded. */
  #take(key: K): void {
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#delayedAt.delete(key);
  }

  #emitDepth(): void { this.#onDepth?.(this.depth()); }

  #armTimer(): void {
    const next = this.#peekDelayed();
    if (!next) {
      this.#timer?.cancel();
      this.#timer = undefined;
      return;
    }
    if (this.#timer && this.#timer.at <= next.at) return;
    this.#timer?.cancel();
    const at = next.at;
    const cancel = this.#clock.setTimer(() => { this.#timer = undefined; this.#fireDue(); }, at - this.#clock.now());
    this.#timer = { at, cancel };
  }

  #fireDue(): void {
    const now = this.#clock.now();
    for (let next = this.#peekDelayed(); next && next.at <= now; next = this.#peekDelayed()) {
      this.#heapPop();
      this.#delayedAt.delete(next.key);
      this.add(next.key);
    }
    this.#armTimer();
  }

  /** The earliest live delayed entry, discarding stale ones. */
  #peekDelayed(): Delayed<K> | undefined {
    while (this.#heap.length > 0) {
      const top = this.#heap[0];
      if (this.#delayedAt.get(top.key) === top.at) return top;
      this.#heapPop();
    }
    return undefined;
  }

  #heapPush(item: Delayed<K>): void {
    const h = this.#heap;
    h.push(item);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #heapPop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && before(h[l], h[m])) m = l;
      if (r < h.length && before(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}

function before<K>(a: Delayed<K>, b: Delayed<K>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
