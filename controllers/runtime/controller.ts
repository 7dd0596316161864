// A controller: a definition (what to watch, how to reconcile a key) and the loop that runs
// it. The loop, not the reconciler, interprets outcomes: done forgets the key, requeueAfter
// schedules it, retry backs off, terminal is logged and not retried, and a throw is treated
// as a bug: logged and retried with back-off. Every reconcile is timed and counted.
import { randomUUID } from "node:crypto";
import { BackoffOptions } from "./backoff";
import { Clock, systemClock } from "./clock";
import { EventRecorder } from "./events";
import { deepEqual } from "./json-merge";
import { KubeClient, ResourceRef } from "./kube";
import { KubeObject, ObjectKey, formatKey, keyOf, parseKey } from "./keys";
import { Logger, controllerLogger, objectLogger } from "./logger";
import { ReconcileOutcome, RuntimeMetrics } from "./metrics";
import { ShutdownReport, WorkQueue } from "./queue";
import { Result } from "./result";
import { WatchEvent, Watcher } from "./watch";

/** The reconciled kind: where it lives in the API and its kind name. */
export type KindRef = ResourceRef & { readonly kind: string };

/** Read access to the watch cache of the primary kind (eventually consistent). */
export interface ObjectCache<T extends KubeObject> {
  get(key: ObjectKey): T | undefined;
  list(namespace?: string): T[];
}

/** What a reconcile gets besides its key: injected clients, never timers or queues. */
export interface ReconcileContext<T extends KubeObject = KubeObject> {
  readonly client: KubeClient;
  /** Carries controller, object and reconcileID fields. */
  readonly log: Logger;
  readonly events: EventRecorder;
  readonly metrics: RuntimeMetrics;
  readonly clock: Clock;
  /** Aborted when shutdown gives up waiting for this reconcile. */
  readonly signal: AbortSignal;
  readonly cache: ObjectCache<T>;
  readonly kind: KindRef;
  /** --interval-jitter-percentage as a fraction. */
  readonly intervalJitter: number;
}

/** Another kind whose changes enqueue objects of the primary kind. */
export interface SecondaryWatch<T extends KubeObject = KubeObject> {
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  /** Keys of primary objects affected by the event (e.g. Kustomizations using a GitRepository). */
  map: (event: WatchEvent, primary: ObjectCache<T>) => ObjectKey[];
}

export interface ControllerDefinition<T extends KubeObject = KubeObject> {
  /** Lower-case name for logs, metrics and the queue, e.g. "gitrepository". */
  name: string;
  kind: KindRef;
  reconcile: (key: ObjectKey, ctx: ReconcileContext<T>) => Promise<Result>;
  /** Which primary events enqueue; default `generationOrAnnotationsChanged`. */
  predicate?: (event: WatchEvent<T>) => boolean;
  watches?: SecondaryWatch<T>[];
  /** Workers; default the manager's --concurrent. */
  concurrency?: number;
}

/**
 * The default primary predicate: adds and deletes always; updates when metadata.generation
 * changed (a spec edit or deletion), or annotations changed (reconcile.fluxcd.io/requestedAt),
 * or, for kinds without generation, when anything changed. Status-only writes do not enqueue.
 */
export function generationOrAnnotationsChanged(ev: WatchEvent): boolean {
  if (ev.type !== "updated" || !ev.previous) return true;
  const a = ev.previous.metadata ?? {};
  const b = ev.object.metadata ?? {};
  if (b.generation === undefined) return a.resourceVersion !== b.resourceVersion;
  return a.generation !== b.generation || !deepEqual(a.annotations ?? {}, b.annotations ?? {});
}

export interface ControllerRunnerOptions {
  client: KubeClient;
  logger: Logger;
  metrics: RuntimeMetrics;
  events: EventRecorder;
  clock?: Clock;
  concurrency: number;
  backoff?: BackoffOptions;
  /** Restricts the primary watch to one namespace. */
  namespace?: string;
  /** Restricts the primary watch (--watch-label-selector). */
  labelSelector?: string;
  intervalJitter?: number;
  random?: () => number;
}

/** Runs one controller: its watches, queue and workers. */
export class ControllerRunner<T extends KubeObject = KubeObject> {
  readonly def: ControllerDefinition<T>;
  readonly queue: WorkQueue<string>;
  readonly #o: ControllerRunnerOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #primary: Watcher<T>;
  readonly #secondary: Watcher[];
  readonly #abort = new AbortController();
  #workers?: Promise<void>;

  constructor(def: ControllerDefinition<T>, opts: ControllerRunnerOptions) {
    this.def = def;
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = controllerLogger(opts.logger, def.name, def.kind.group, def.kind.kind);
    this.queue = new WorkQueue<string>({
      clock: this.#clock, backoff: opts.backoff, random: opts.random,
      onDepthChange: (n) => opts.metrics.queueDepth.set({ name: def.name }, n),
    });
    opts.metrics.queueDepth.set({ name: def.name }, 0);
    // Reconciles read the primary object from the cache once it holds our last write (reconcile-object.ts).
    opts.client.trackWrites(def.kind);
    const predicate = def.predicate ?? generationOrAnnotationsChanged;
    this.#primary = new Watcher<T>(opts.client, {
      resource: def.kind, namespace: opts.namespace, labelSelector: opts.labelSelector, clock: this.#clock,
      logger: this.#log, random: opts.random,
      onEvent: (ev) => { if (predicate(ev)) this.queue.add(formatKey(keyOf(ev.object))); },
    });
    this.#secondary = (def.watches ?? []).map((w) => new Watcher(opts.client, {
      resource: w.resource, namespace: w.namespace, labelSelector: w.labelSelector, clock: this.#clock,
      logger: this.#log, random: opts.random,
      onEvent: (ev) => { for (const k of w.map(ev, this.#primary)) this.queue.add(formatKey(k)); },
    }));
  }

  /** The primary cache. */
  get cache(): ObjectCache<T> { return this.#primary; }

  hasSynced(): boolean { return this.#primary.hasSynced() && this.#secondary.every((w) => w.hasSynced()); }

  /** Enqueues a key by hand. */
  enqueue(key: ObjectKey): void { this.queue.add(formatKey(key)); }

  /** Starts watches and workers. Resolves once the primary cache is synced (or `signal` aborts). */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#workers) return;
    const concurrency = this.def.concurrency ?? this.#o.concurrency;
    this.#workers = this.queue.run(concurrency, async (k) => { await this.processKey(k); }, (k, e) => {
      this.#log.error({ error: e, key: k }, "worker handler threw");
    });
    this.#primary.start();
    await this.#primary.waitForSync(signal);
    for (const w of this.#secondary) w.start();
    this.#log.info({ workers: concurrency }, "controller started");
  }

  /** Stops the watches, then lets in-flight reconciles finish for up to `drainMs`. */
  async stop(drainMs: number): Promise<ShutdownReport<string>> {
    await Promise.all([this.#primary, ...this.#secondary].map((w) => w.stop()));
    const report = await this.queue.shutdown(drainMs);
    if (!report.drained) {
      this.#log.warn({ abandoned: report.abandoned }, "shutdown deadline passed, abandoning reconciles");
      this.#abort.abort(new Error("controller shutting down"));
    } else if (this.#workers) {
      await this.#workers;
    }
    this.#log.info("controller stopped");
    return report;
  }

  /** Reconciles one key and interprets the outcome (exposed for tests). */
  async processKey(k: string): Promise<ReconcileOutcome> {
    const key = parseKey(k);
    const { metrics, intervalJitter = 0.05 } = this.#o;
    const kind = this.def.kind.kind;
    const log = objectLogger(this.#log, kind, key, randomUUID());
    const ctx: ReconcileContext<T> = {
      client: this.#o.client, log, events: this.#o.events, metrics, clock: this.#clock,
      signal: this.#abort.signal, cache: this.#primary, kind: this.def.kind, intervalJitter,
    };
    const started = this.#clock.now();
    let outcome: ReconcileOutcome;
    try {
      const r = await this.def.reconcile(key, ctx);
      outcome = r.type;
      switch (r.type) {
        case "done":
          this.queue.forget(k);
          break;
        case "requeueAfter":
          this.queue.forget(k);
          this.queue.addAfter(k, r.afterMs);
          break;
        case "retry": {
          const retryInMs = Math.round(this.queue.addRateLimited(k));
          metrics.queueRetries.inc({ name: this.def.name });
          log.error({ error: r.error, retryInMs }, "Reconciler error");
          break;
        }
        case "terminal":
          this.queue.forget(k);
          log.error({ error: r.error }, "Reconciler error, not retrying (terminal)");
          break;
      }
    } catch (e) {
      outcome = "error";
      const retryInMs = Math.round(this.queue.addRateLimited(k));
      metrics.queueRetries.inc({ name: this.def.name });
      log.error({ error: e, retryInMs }, "Reconciler threw; retrying");
    }
    metrics.reconcileDuration.observe({ kind, name: key.name, namespace: key.namespace }, (this.#clock.now() - started) / 1000);
    metrics.reconcileTotal.inc({ kind, result: outcome });
    return outcome;
  }
}
