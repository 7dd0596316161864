// The events endpoint (`--events-addr`): Flux's controllers POST event/v1 JSON to `/`. A bad
// body is 400; a duplicate of an event seen within the rate-limit interval is 429 (which the
// senders do not retry); otherwise the matching Alerts dispatch it and the answer is 202.
import type * as http from "node:http";
import type { Alert } from "../api/notification/v1beta3/alert";
import type { Provider } from "../api/notification/v1beta3/provider";
import type { EventRecorder } from "../runtime/events";
import type { KubeClient } from "../runtime/kube";
import type { Logger } from "../runtime/logger";
import { matchingAlerts } from "./alert-matcher";
import { Dispatcher, SendCounter } from "./dispatch";
import type { RetryPolicy } from "./provider-config";
import { DuplicateFilter } from "./event-dedupe";
import { EventParseError, FluxEvent, ObjectReference, eventKey, excludeInternalMetadata, parseEvent } from "./event";
import { fluxResource } from "./flux-kinds";
import { BodyTooLargeError, Listener, readBody, reply } from "./http-util";

/** Flux's event messages are at most 39,000 characters; leave room for metadata. */
const maxEventBytes = 1 << 20;

export interface EventServerOptions {
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  /** The Alerts (watch cache). */
  alerts: () => readonly Alert[];
  cachedProvider: (namespace: string, name: string) => Provider | undefined;
  rateLimitIntervalMs?: number;
  noCrossNamespaceRefs?: boolean;
  retry?: RetryPolicy;
  metrics?: SendCounter;
}

export class EventServer {
  readonly #o: EventServerOptions;
  readonly #log: Logger;
  readonly #dedupe: DuplicateFilter;
  readonly #dispatcher: Dispatcher;
  readonly #listener = new Listener((req, res) => { void this.#handle(req, res); });

  constructor(opts: EventServerOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ server: "event-server" });
    this.#dedupe = new DuplicateFilter(opts.rateLimitIntervalMs);
    this.#dispatcher = new Dispatcher({ client: opts.client, events: opts.events, logger: this.#log, cachedProvider: opts.cachedProvider, noCrossNamespaceRefs: opts.noCrossNamespaceRefs, retry: opts.retry, metrics: opts.metrics });
  }

  async listen(addr: string): Promise<void> { await this.#listener.listen(addr); }
  get port(): number { return this.#listener.port; }
  /** Where our controllers post events: `http://host:port/`. */
  get url(): string { return `${this.#listener.url}/`; }

  async close(): Promise<void> {
    await this.#listener.close();
    await this.#dispatcher.flush();
  }

  /** Handles one event as if it had been posted (exposed for tests); returns the HTTP status. */
  async handleEvent(ev: FluxEvent): Promise<number> {
    if (!this.#dedupe.allow(eventKey(ev))) {
      this.#log.debug({ involvedObject: ev.involvedObject }, "Discarding event, rate limiting duplicate events");
      return 429;
    }
    excludeInternalMetadata(ev);
    const log = this.#log.child({ eventInvolvedObject: ev.involvedObject });
    const alerts = await matchingAlerts(ev, this.#o.alerts(), {
      labelsOf: (o) => this.#labelsOf(o),
      report: (alert, reason, message) => {
        log.error({ alert: alert.metadata.name, reason }, message);
        void this.#o.events.warning(alert, reason, message);
      },
    });
    if (alerts.length === 0) {
      log.debug("discarding event, no alerts found for the involved object");
      return 202;
    }
    log.info({ message: ev.message }, "dispatching event");
    for (const alert of alerts) await this.#dispatcher.dispatch(ev, alert);
    return 202;
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      if (req.method !== "POST") return reply(res, 405, "POST an event to /");
      let ev: FluxEvent;
      try {
        ev = parseEvent((await readBody(req, maxEventBytes)).toString("utf8"));
      } catch (e) {
        if (e instanceof EventParseError || e instanceof BodyTooLargeError) {
          this.#log.error({ error: e.message }, "decoding the request body failed");
          return reply(res, 400, e.message);
        }
        throw e;
      }
      reply(res, await this.handleEvent(ev));
    } catch (e) {
      this.#log.error({ error: e }, "handling the event failed");
      reply(res, 500, "internal error");
    }
  }

  async #labelsOf(o: ObjectReference): Promise<Record<string, string> | undefined> {
    if (!o.apiVersion) return undefined;
    try {
      const obj = await this.#o.client.get<{ metadata: { labels?: Record<string, string> } }>(fluxResource(o.kind, o.apiVersion), { namespace: o.namespace, name: o.name });
      return obj ? (obj.metadata.labels ?? {}) : undefined;
    } catch (e) {
      this.#log.error({ error: e, kind: o.kind, name: o.name }, "error getting the involved object");
      return undefined;
    }
  }
}
