// Sending one event through one Alert: find its Provider (same namespace), skip it when
// suspended, merge the metadata, build the notifier and post in the background. Failures are
// Warning Events on the Alert (NotificationDispatchFailed), as Flux records them, since
// Alerts and Providers v1beta3 have no status to report through.
import { NotificationReason } from "../api/notification/group-version";
import type { Alert } from "../api/notification/v1beta3/alert";
import { ProviderNames, type Provider } from "../api/notification/v1beta3/provider";
import type { EventRecorder } from "../runtime/events";
import type { KubeClient } from "../runtime/kube";
import type { Logger } from "../runtime/logger";
import { FluxEvent, combineMetadata, objectString } from "./event";
import { Counter, Registry } from "prom-client";
import { groupOf } from "./flux-kinds";
import { sendEvent } from "./notifiers";
import { CommitStatusProviderTypes, DefaultRetryPolicy, RetryPolicy, notifierConfig } from "./provider-config";
import { eventCommit } from "./commit-status";
import { ChangeRequestCommentProviderTypes, ChangeRequestMetaKey } from "./change-request-comment";
import { ProviderType } from "../api/notification/v1beta3/provider";

/** Send attempts by provider type and result: success, retry (a failed attempt retried), failure (given up). */
export type SendCounter = Counter<"provider_type" | "result">;

export const SendMetricName = "gotk_notification_send_attempts_total";

/** The send counter in `registry` (created once per registry). */
export function sendCounter(registry: Registry): SendCounter {
  return (registry.getSingleMetric(SendMetricName) as SendCounter | undefined) ?? new Counter({
    name: SendMetricName, help: "Attempts to send a notification to a Provider, by provider type and result (success, retry, failure).",
    labelNames: ["provider_type", "result"], registers: [registry],
  });
}

/** `<group>/commit_status: update`: the emitter marks the event as a commit status update (Flux). */
function isCommitStatusUpdate(ev: FluxEvent): boolean {
  return ev.metadata?.[`${groupOf(ev.involvedObject.apiVersion)}/commit_status`] === "update";
}

export const providersRes = { group: ProviderNames.group, version: ProviderNames.version, plural: ProviderNames.plural, kind: ProviderNames.kind };

export interface DispatcherOptions {
  client: KubeClient;
  events: EventRecorder;
  logger: Logger;
  /** A Provider from the watch cache, if there. */
  cachedProvider: (namespace: string, name: string) => Provider | undefined;
  noCrossNamespaceRefs?: boolean;
  /** Retries of failed sends; Flux's by default (4, from 1 s doubling). */
  retry?: RetryPolicy;
  /** Where send attempts are counted. */
  metrics?: SendCounter;
}

export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #inflight = new Set<Promise<void>>();

  constructor(opts: DispatcherOptions) { this.#o = opts; }

  /** Prepares and starts the send; resolves once it has started (the POST runs on). */
  async dispatch(ev: FluxEvent, alert: Alert): Promise<void> {
    const what = objectString(ev.involvedObject);
    const alertNs = alert.metadata.namespace!;
    const log = this.#o.logger.child({ alert: { name: alert.metadata.name, namespace: alertNs, providerName: alert.spec.providerRef.name } });
    try {
      if (this.#o.noCrossNamespaceRefs && ev.involvedObject.namespace !== alertNs) {
        throw new Error(`discarding event, access denied to cross-namespace sources: alert '${alertNs}/${alert.metadata.name}' `
          + `can't process event from '${what}', cross-namespace references have been blocked`);
      }
      const provider = await this.#provider(alertNs, alert.spec.providerRef.name);
      if (provider.spec.suspend) return;
      const type = provider.spec.type;
      const commitStatus = CommitStatusProviderTypes.includes(type);
      // As Flux: commit status updates go only to git and generic providers; git providers take
      // commit status updates, events with a commit key, and failures.
      if (!commitStatus && type !== ProviderType.Generic && type !== ProviderType.GenericHMAC && isCommitStatusUpdate(ev)) return;
      // Comment providers take only events of objects annotated with the change request (Flux).
      if (ChangeRequestCommentProviderTypes.includes(type) && !ev.metadata?.[ChangeRequestMetaKey]) {
        log.debug({ reason: ev.reason }, `discarding event for a change request comment provider: no ${ChangeRequestMetaKey} metadata`);
        return;
      }
      if (commitStatus && !isCommitStatusUpdate(ev) && !ev.metadata?.["event.toolkit.fluxcd.io/commit"] && ev.severity !== "error") {
        log.debug({ reason: ev.reason }, "discarding event for a commit status provider: not a commit status update");
        return;
      }
      const notification: FluxEvent = structuredClone(ev);
      const { metadata, conflicts } = combineMetadata(ev, alert);
      if (Object.keys(metadata).length) notification.metadata = metadata;
      if (conflicts.length) {
        void this.#o.events.warning(alert, "MetadataAppendFailed",
          "metadata key conflicts detected (please refer to the Alert API docs and Flux RFC 0008 for more information)",
          Object.fromEntries(conflicts.map((k) => [k, "conflict"])));
      }
      let cfg;
      try { cfg = await notifierConfig(this.#o.client, provider, undefined, this.#o.retry ?? DefaultRetryPolicy); } catch (e) {
        throw new Error(`failed to initialize notifier for provider '${provider.metadata.name}': ${(e as Error).message}`, { cause: e });
      }
      if (commitStatus) {
        let sha: string | undefined;
        try { sha = eventCommit(notification); } catch (e) { throw new Error(`failed to set commit status: ${(e as Error).message}`); }
        if (!sha) {
          log.debug({ reason: ev.reason }, "no commit status for an event without a revision");
          return;
        }
      }
      const observe = (result: "success" | "retry" | "failure") => this.#o.metrics?.inc({ provider_type: type, result });
      const send = sendEvent(cfg, notification, { alert, observe }).catch((e: unknown) => {
        log.error({ error: e }, "failed to send notification");
        return this.#o.events.warning(alert, NotificationReason.NotificationDispatchFailed,
          `failed to send notification for ${what}: ${(e as Error).message}`);
      });
      this.#inflight.add(send);
      void send.finally(() => this.#inflight.delete(send));
    } catch (e) {
      log.error({ error: e }, "failed to dispatch notification");
      void this.#o.events.warning(alert, NotificationReason.NotificationDispatchFailed,
        `failed to dispatch notification for ${what}: ${(e as Error).message}`);
    }
  }

  /** Waits for the sends started so far (shutdown, tests). */
  async flush(): Promise<void> { while (this.#inflight.size) await Promise.all([...this.#inflight]); }

  async #provider(namespace: string, name: string): Promise<Provider> {
    // The cache may lag a Provider created just before the event; the API has the last word.
    const p = this.#o.cachedProvider(namespace, name) ?? await this.#o.client.get<Provider>(providersRes, { namespace, name });
    if (!p) throw new Error(`failed to read provider: ${ProviderNames.plural}.${ProviderNames.group} "${name}" not found`);
    return p;
  }
}
