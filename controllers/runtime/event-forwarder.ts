// Sends the events our controllers record to notification-controller (`--events-addr`), as
// Flux's controllers do (fluxcd/pkg runtime/events): one POST of an event/v1 JSON object per
// event, retried on connection errors and 5xx, never on 429 (the notification-controller's
// answer to a duplicate within its rate-limit window); a failed send is logged, never dropped
// silently. Fire and forget: a reconcile never waits.
import * as os from "node:os";
import { sleep, systemClock } from "./clock";
import type { EventRecorder, EventType } from "./events";
import type { KubeObject } from "./keys";
import { Logger, silentLogger } from "./logger";

/** The event/v1 payload (fluxcd/pkg apis/event/v1 Event). */
export interface FluxEventPayload {
  involvedObject: { kind: string; namespace: string; name: string; uid?: string; apiVersion?: string; resourceVersion?: string };
  severity: "info" | "error";
  timestamp: string;
  message: string;
  reason: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
}

export interface EventForwarderOptions {
  /** notification-controller's URL, e.g. `http://notification-controller.flux-system.svc.cluster.local./`. */
  address: string;
  /** reportingController for groups not in `controllerForGroup` (our process runs several controllers). */
  reportingController: string;
  reportingInstance?: string;
  logger?: Logger;
  /** Per attempt; default 5 s (Flux's). */
  timeoutMs?: number;
  /** Retries after the first attempt; default 4 (retryablehttp's). */
  retries?: number;
  /** First retry delay, doubling; default 1 s. */
  retryBaseMs?: number;
}

/** Object annotations with this prefix travel as event metadata (Flux RFC 0008). */
export const EventMetadataAnnotationPrefix = "event.toolkit.fluxcd.io/";

/** Events about these groups are not forwarded: notification-controller's own objects. */
const notForwarded = new Set(["notification.toolkit.fluxcd.io"]);

/** The Flux controller that owns an API group, as reportingController. */
export function controllerForGroup(group: string): string | undefined {
  const m = /^(source|kustomize|helm|notification|image)\.toolkit\.fluxcd\.io$/.exec(group);
  if (!m) return undefined;
  return m[1] === "image" ? "image-reflector-controller" : `${m[1]}-controller`;
}

/** metav1.Time: RFC 3339 with seconds. */
function metaNow(): string { return new Date().toISOString().replace(/\.\d+Z$/, "Z"); }

export class EventForwarder {
  readonly #opts: EventForwarderOptions;
  readonly #log: Logger;
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: EventForwarderOptions) {
    const url = new URL(opts.address); // throws on a malformed --events-addr, at startup
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--events-addr: expected an http(s) URL, got '${opts.address}'`);
    this.#opts = opts;
    this.#log = (opts.logger ?? silentLogger).child({ component: "event-forwarder" });
  }

  /** Subscribes to `recorder`: every event it records from now on is also forwarded. */
  attach(recorder: EventRecorder): this {
    recorder.addSink((obj, type, reason, message, annotations) => this.forward(obj, type, reason, message, annotations));
    return this;
  }

  /** The payload for an event, or undefined when Flux would not send it (no namespace, own group). */
  payload(obj: KubeObject, type: EventType, reason: string, message: string, annotations: Record<string, string>): FluxEventPayload | undefined {
    const m = obj.metadata ?? {};
    if (!obj.kind || !m.name || !m.namespace) return undefined;
    const group = (obj.apiVersion ?? "").includes("/") ? obj.apiVersion!.split("/")[0] : "";
    if (notForwarded.has(group)) return undefined;
    const metadata: Record<string, string> = { ...annotations };
    for (const [k, v] of Object.entries(m.annotations ?? {})) if (k.startsWith(EventMetadataAnnotationPrefix)) metadata[k] = v;
    return {
      involvedObject: { kind: obj.kind, namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: obj.apiVersion, resourceVersion: m.resourceVersion },
      severity: type === "Warning" ? "error" : "info",
      timestamp: metaNow(),
      message, reason,
      ...(Object.keys(metadata).length ? { metadata } : {}),
      reportingController: controllerForGroup(group) ?? this.#opts.reportingController,
      reportingInstance: this.#opts.reportingInstance ?? os.hostname(),
    };
  }

  forward(obj: KubeObject, type: EventType, reason: string, message: string, annotations: Record<string, string>): void {
    const body = this.payload(obj, type, reason, message, annotations);
    if (!body) return;
    const p = this.#post(JSON.stringify(body)).catch((e: unknown) => {
      this.#log.warn({ error: e, reason, object: `${obj.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}` }, "unable to record event");
    });
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  /** Resolves when every POST started so far has finished (tests, shutdown). */
  async flush(): Promise<void> { while (this.#inflight.size) await Promise.all([...this.#inflight]); }

  async #post(body: string): Promise<void> {
    const retries = this.#opts.retries ?? 4;
    for (let attempt = 0; ; attempt++) {
      let error: Error;
      let retryable = true;
      try {
        const res = await fetch(this.#opts.address, {
          method: "POST", body, headers: { "content-type": "application/json" },
          signal: AbortSignal.timeout(this.#opts.timeoutMs ?? 5000),
        });
        const answer = await res.text().catch(() => "");
        if (res.status < 300 || res.status === 429) return; // 429: a duplicate within the rate-limit window
        error = new Error(`POST ${this.#opts.address}: ${res.status} ${res.statusText}${answer ? `: ${answer.slice(0, 200)}` : ""}`);
        retryable = res.status >= 500; // any other 4xx refuses the event itself: retrying cannot help
      } catch (e) {
        error = e as Error;
      }
      if (!retryable || attempt >= retries) throw error;
      await sleep(systemClock, Math.min(30_000, (this.#opts.retryBaseMs ?? 1000) * 2 ** attempt));
    }
  }
}

/** Forwards `recorder`'s events to `address`; the caller keeps the forwarder to flush it on shutdown. */
export function forwardEvents(recorder: EventRecorder, opts: EventForwarderOptions): EventForwarder {
  return new EventForwarder(opts).attach(recorder);
}
