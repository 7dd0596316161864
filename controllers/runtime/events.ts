// Kubernetes Events (core v1, as Flux's controllers emit them) about reconciled objects.
// A repeat of an identical event (same object, type, reason, message and annotations) within
// the de-duplication window bumps the existing Event's count and lastTimestamp instead of
// creating a new one. Recording never throws: a failure is logged and dropped.
import { randomBytes } from "node:crypto";
import { Clock, systemClock } from "./clock";
import { metaTime } from "./conditions";
import { KubeClient, ResourceRef } from "./kube";
import { isNotFound } from "./kube-errors";
import { KubeObject } from "./keys";
import { Logger, silentLogger } from "./logger";

export const EventType = { Normal: "Normal", Warning: "Warning" } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export const coreEvents: ResourceRef = { group: "", version: "v1", plural: "events", kind: "Event" };

export interface EventRecorderOptions {
  /** Written to source.component and reportingComponent, e.g. "source-controller". */
  reportingController: string;
  /** Written to reportingInstance (pod name); defaults to the host name. */
  reportingInstance?: string;
  /** Repeats within this window are folded into one Event; default 10 minutes. */
  dedupeWindowMs?: number;
  /** Distinct events remembered for folding; default 4096. */
  cacheSize?: number;
  clock?: Clock;
  logger?: Logger;
}

interface Seen { namespace: string; name: string; count: number; lastSeen: number }

/** Also receives every recorded event, before folding (e.g. event-forwarder.ts); must not throw. */
export type EventSink = (obj: KubeObject, type: EventType, reason: string, message: string, annotations: Record<string, string>) => void;

export class EventRecorder {
  readonly #client: KubeClient;
  readonly #opts: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #seen = new Map<string, Seen>();
  /** Per-key chain, so concurrent repeats are folded in order. */
  readonly #chains = new Map<string, Promise<void>>();
  readonly #sinks: EventSink[] = [];

  constructor(client: KubeClient, opts: EventRecorderOptions) {
    this.#client = client;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
  }

  normal(obj: KubeObject, reason: string, message: string, annotations?: Record<string, string>): Promise<void> {
    return this.event(obj, EventType.Normal, reason, message, annotations);
  }

  warning(obj: KubeObject, reason: string, message: string, annotations?: Record<string, string>): Promise<void> {
    return this.event(obj, EventType.Warning, reason, message, annotations);
  }

  /** Hands every later event to `sink` as well (the notification-controller forwarder). */
  addSink(sink: EventSink): void { this.#sinks.push(sink); }

  /** Records an event about `obj`; resolves when written (or dropped after a failure). */
  event(obj: KubeObject, type: EventType, reason: string, message: string, annotations: Record<string, string> = {}): Promise<void> {
    for (const sink of this.#sinks) {
      try { sink(obj, type, reason, message, annotations); } catch (e) { this.#log.warn({ error: e, reason }, "event sink failed"); }
    }
    const key = dedupeKey(obj, type, reason, message, annotations);
    const prev = this.#chains.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.#write(key, obj, type, reason, message, annotations)).catch((e: unknown) => {
      this.#log.warn({ error: e, reason }, "could not record event");
    });
    this.#chains.set(key, next);
    void next.then(() => { if (this.#chains.get(key) === next) this.#chains.delete(key); });
    return next;
  }

  async #write(key: string, obj: KubeObject, type: EventType, reason: string, message: string, annotations: Record<string, string>): Promise<void> {
    const now = this.#clock.now();
    const seen = this.#seen.get(key);
    if (seen && now - seen.lastSeen < (this.#opts.dedupeWindowMs ?? 10 * 60_000)) {
      try {
        await this.#client.patch(coreEvents, seen, { count: seen.count + 1, lastTimestamp: metaTime(new Date(now)) });
        seen.count += 1;
        seen.lastSeen = now;
        this.#touch(key, seen);
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    const ns = obj.metadata?.namespace || "default";
    const name = `${obj.metadata?.name ?? "unknown"}.${randomBytes(8).toString("hex")}`;
    const at = metaTime(new Date(now));
    await this.#client.create(coreEvents, {
      apiVersion: "v1", kind: "Event",
      metadata: { name, namespace: ns, ...(Object.keys(annotations).length ? { annotations } : {}) },
      involvedObject: {
        apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata?.name, namespace: obj.metadata?.namespace,
        uid: obj.metadata?.uid, resourceVersion: obj.metadata?.resourceVersion,
      },
      type, reason, message,
      source: { component: this.#opts.reportingController },
      reportingComponent: this.#opts.reportingController,
      reportingInstance: this.#opts.reportingInstance ?? process.env.HOSTNAME ?? "",
      firstTimestamp: at, lastTimestamp: at, count: 1,
    });
    this.#touch(key, { namespace: ns, name, count: 1, lastSeen: now });
  }

  /** Stores as most recent, evicting the least recently seen beyond the cache size. */
  #touch(key: string, seen: Seen): void {
    this.#seen.delete(key);
    this.#seen.set(key, seen);
    const max = this.#opts.cacheSize ?? 4096;
    while (this.#seen.size > max) this.#seen.delete(this.#seen.keys().next().value as string);
  }
}

function dedupeKey(obj: KubeObject, type: string, reason: string, message: string, annotations: Record<string, string>): string {
  const m = obj.metadata ?? {};
  const ann = Object.keys(annotations).sort().map((k) => [k, annotations[k]]);
  return JSON.stringify([obj.apiVersion, obj.kind, m.namespace, m.name, m.uid, type, reason, message, ann]);
}
