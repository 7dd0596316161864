// List-then-watch of one resource with a local cache keyed by namespace/name. Resumes from the
// last resourceVersion (opaque: compared only for equality), relists on 410 Gone and on a
// long jittered timer, emits deletes for objects that vanished between lists, backs off on
// API errors, and stops through an AbortController.
import { BackoffOptions, backoffDelay, jittered } from "./backoff";
import { CancelTimer, Clock, sleep, systemClock } from "./clock";
import { KubeClient, ResourceRef } from "./kube";
import { KubeApiError, KubeStatus, isGone } from "./kube-errors";
import { KubeObject, ObjectKey, formatKey, keyOf } from "./keys";
import { Logger, silentLogger } from "./logger";

export type WatchEventType = "added" | "updated" | "deleted";

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  /** The new state; for deletes, the last known state. */
  object: T;
  /** For updates, the state before. */
  previous?: T;
}

export interface WatcherOptions<T extends KubeObject> {
  resource: ResourceRef;
  /** Omit to watch all namespaces. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  onEvent: (event: WatchEvent<T>) => void;
  /** Full relist period (jittered by ±20%); default 30 min. */
  relistIntervalMs?: number;
  /** Server-side watch timeout; default random in [300, 600) s, as client-go does. */
  watchTimeoutSeconds?: number;
  /** Back-off after API errors; default 500 ms doubling up to 30 s. */
  backoff?: BackoffOptions;
  /** List page size; default 500. */
  pageSize?: number;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

/** The state a new watcher can resume from (see `Watcher.snapshot`). */
export interface WatchSnapshot<T extends KubeObject> {
  resourceVersion: string;
  objects: T[];
}

export class Watcher<T extends KubeObject = KubeObject> {
  readonly #client: KubeClient;
  readonly #opts: WatcherOptions<T>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  #cache = new Map<string, T>();
  #rv?: string;
  #synced = false;
  #syncWaiters: Array<() => void> = [];
  #needList = true;
  #stop?: AbortController;
  #stream?: AbortController;
  #loop?: Promise<void>;
  #relistTimer?: CancelTimer;
  #lastError?: Error;

  constructor(client: KubeClient, opts: WatcherOptions<T>, resumeFrom?: WatchSnapshot<T>) {
    this.#client = client;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#random = opts.random ?? Math.random;
    this.#log = (opts.logger ?? silentLogger).child({ watch: opts.resource.plural, ...(opts.namespace ? { watchNamespace: opts.namespace } : {}) });
    if (resumeFrom) {
      for (const o of resumeFrom.objects) this.#cache.set(formatKey(keyOf(o)), o);
      this.#rv = resumeFrom.resourceVersion;
      this.#needList = false;
      this.#synced = true;
    }
  }

  /** True once a first list has completed, or from the start when resuming from a snapshot. */
  hasSynced(): boolean { return this.#synced; }
  isRunning(): boolean { return this.#loop !== undefined; }
  /** The last resourceVersion seen (list, event or bookmark). */
  resourceVersion(): string | undefined { return this.#rv; }
  /** The last error of the loop, cleared by the next success. */
  lastError(): Error | undefined { return this.#lastError; }

  get(key: ObjectKey): T | undefined { return this.#cache.get(formatKey(key)); }

  list(namespace?: string): T[] {
    const all = [...this.#cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? "") === namespace);
  }

  snapshot(): WatchSnapshot<T> | undefined {
    return this.#rv === undefined ? undefined : { resourceVersion: this.#rv, objects: this.list() };
  }

  /**
   * Starts (or restarts) the loop. A restarted watcher keeps its cache and resumes from its
   * last resourceVersion, so changes made while it was stopped arrive as events; with
   * `relist: true` it lists first and emits the difference instead.
   */
  start(opts: { relist?: boolean } = {}): void {
    if (this.#loop) return;
    if (opts.relist) this.#needList = true;
    else if (this.#rv !== undefined) this.#scheduleRelist();
    this.#stop = new AbortController();
    const signal = this.#stop.signal;
    this.#loop = this.#run(signal).finally(() => { this.#loop = undefined; });
  }

  /** Stops the loop and waits for it to end. The cache is kept. */
  async stop(): Promise<void> {
    this.#stop?.abort(new Error("watch stopped"));
    this.#relistTimer?.();
    this.#relistTimer = undefined;
    await this.#loop;
  }

  /** Relists now (ends the current watch stream). */
  resync(): void {
    this.#needList = true;
    this.#stream?.abort(new Error("relist requested"));
  }

  /** Resolves once synced; rejects when `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      this.#syncWaiters.push(resolve);
      signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      this.#stream = new AbortController();
      const streamSignal = AbortSignal.any([signal, this.#stream.signal]);
      try {
        if (this.#needList || this.#rv === undefined) {
          await this.#relist(streamSignal);
          failures = 0;
        }
        if (await this.#watchOnce(streamSignal)) failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        if (this.#stream.signal.aborted) continue;
        if (isGone(e)) {
          this.#log.debug({ resourceVersion: this.#rv }, "resourceVersion expired, relisting");
          this.#needList = true;
          continue;
        }
        this.#lastError = e as Error;
        const delay = backoffDelay(this.#opts.backoff ?? { baseMs: 500, maxMs: 30_000 }, failures++, this.#random);
        this.#log.warn({ error: e, retryInMs: Math.round(delay) }, "watch failed");
        await sleep(this.#clock, delay, signal).catch(() => undefined);
      }
    }
  }

  /** Lists all pages, replaces the cache and emits the difference. */
  async #relist(signal: AbortSignal): Promise<void> {
    const { resource, namespace, labelSelector, fieldSelector } = this.#opts;
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv: string | undefined;
    let limit: number | undefined = this.#opts.pageSize ?? 500;
    do {
      let page;
      try {
        page = await this.#client.list<T>(resource, { namespace, labelSelector, fieldSelector, limit, continue: cont, signal });
      } catch (e) {
        if (!(isGone(e) && cont)) throw e;
        // The continue token expired mid-list: start over in one unpaginated request.
        fresh.clear();
        cont = undefined;
        limit = undefined;
        continue;
      }
      const apiVersion = page.apiVersion;
      const kind = page.kind?.replace(/List$/, "") ?? resource.kind;
      for (const item of page.items) {
        item.apiVersion ??= apiVersion;
        item.kind ??= kind;
        fresh.set(formatKey(keyOf(item)), item);
      }
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion;
    } while (cont);
    const old = this.#cache;
    this.#cache = fresh;
    this.#rv = rv;
    this.#needList = false;
    this.#lastError = undefined;
    this.#scheduleRelist();
    for (const [k, prev] of old) if (!fresh.has(k)) this.#emit({ type: "deleted", object: prev });
    for (const [k, obj] of fresh) {
      const prev = old.get(k);
      if (!prev) this.#emit({ type: "added", object: obj });
      else if (prev.metadata?.uid !== obj.metadata?.uid) {
        this.#emit({ type: "deleted", object: prev });
        this.#emit({ type: "added", object: obj });
      } else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.#emit({ type: "updated", object: obj, previous: prev });
      }
    }
    this.#markSynced();
  }

  /** One watch stream from the current resourceVersion; true when it delivered anything. */
  async #watchOnce(signal: AbortSignal): Promise<boolean> {
    const { resource, namespace, labelSelector, fieldSelector } = this.#opts;
    const timeoutSeconds = this.#opts.watchTimeoutSeconds ?? Math.floor(300 + 300 * this.#random());
    let delivered = false;
    const startedAt = this.#clock.now();
    const stream = this.#client.watch<T>(resource, {
      namespace, labelSelector, fieldSelector, resourceVersion: this.#rv, allowWatchBookmarks: true,
      timeoutSeconds, idleTimeoutMs: (timeoutSeconds + 60) * 1000, signal,
    });
    for await (const ev of stream) {
      this.#lastError = undefined;
      if (ev.type === "ERROR") {
        const status = ev.object as unknown as KubeStatus;
        throw new KubeApiError("WATCH", this.#client.path(resource, namespace), status.code ?? 500, status);
      }
      const rv = ev.object?.metadata?.resourceVersion;
      if (ev.type === "BOOKMARK") {
        if (rv) this.#rv = rv;
        continue;
      }
      this.#apply(ev.type, ev.object);
      if (rv) this.#rv = rv;
      delivered = true;
    }
    if (!delivered && this.#clock.now() - startedAt < 1000 && !signal.aborted) {
      throw new Error("watch stream closed by the server at once");
    }
    return delivered;
  }

  #apply(type: "ADDED" | "MODIFIED" | "DELETED", obj: T): void {
    const k = formatKey(keyOf(obj));
    const prev = this.#cache.get(k);
    if (type === "DELETED") {
      this.#cache.delete(k);
      this.#emit({ type: "deleted", object: obj });
      return;
    }
    this.#cache.set(k, obj);
    if (!prev) this.#emit({ type: "added", object: obj });
    else if (prev.metadata?.uid !== obj.metadata?.uid) {
      this.#emit({ type: "deleted", object: prev });
      this.#emit({ type: "added", object: obj });
    } else this.#emit({ type: "updated", object: obj, previous: prev });
  }

  #emit(ev: WatchEvent<T>): void {
    try {
      this.#opts.onEvent(ev);
    } catch (e) {
      this.#log.error({ error: e, event: ev.type }, "watch event handler threw");
    }
  }

  #markSynced(): void {
    if (this.#synced) return;
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  #scheduleRelist(): void {
    this.#relistTimer?.();
    const ms = jittered(this.#opts.relistIntervalMs ?? 30 * 60_000, 0.2, this.#random);
    this.#relistTimer = this.#clock.setTimer(() => { this.#relistTimer = undefined; this.resync(); }, ms);
  }
}
