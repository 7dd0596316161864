// notification-controller: the Receiver controller, the Provider/Alert checks, the events
// endpoint (--events-addr, where our and Flux's controllers post events) and the webhook
// endpoint (--receiver-addr), as one unit the manager runs. The two servers read Alerts,
// Providers and Receivers from their own watch caches: they serve on every replica, leader or
// not, as Flux's do.
import type { Alert } from "../api/notification/v1beta3/alert";
import type { Provider } from "../api/notification/v1beta3/provider";
import type { Receiver } from "../api/notification/v1/receiver";
import type { ControllerDefinition } from "../runtime/controller";
import type { EventRecorder } from "../runtime/events";
import type { KubeClient, ResourceRef } from "../runtime/kube";
import type { Logger } from "../runtime/logger";
import { Watcher } from "../runtime/watch";
import { alertCheckController, alertsRes, providerCheckController } from "./config-checks";
import { providersRes, sendCounter } from "./dispatch";
import type { RetryPolicy } from "./provider-config";
import type { Registry } from "prom-client";
import { DefaultRateLimitIntervalMs } from "./event-dedupe";
import { EventServer } from "./event-server";
import { receiversRes, reconcileReceiver } from "./receiver-reconciler";
import { ReceiverServer } from "./receiver-server";
import { DefaultGoogleJwksUrl } from "./receiver-gcr";

export interface NotificationControllerFlags {
  /** Listen address of the events endpoint; Flux's default is :9090, ours :9690 (source-controller has :9090). */
  eventsAddr: string;
  /** Listen address of the webhook receiver (Flux's --receiverAddr). */
  receiverAddr: string;
  /** Duplicate events within this window are refused (Flux's --rate-limit-interval). */
  rateLimitIntervalMs: number;
  noCrossNamespaceRefs: boolean;
  /**
   * Where gcr Receivers fetch Google's ID-token keys (a JWKS); ours, not Flux's (whose Google
   * client fetches https://www.googleapis.com/oauth2/v3/certs). For air-gapped mirrors and tests.
   */
  gcrJwksUrl?: string;
}

export const defaultNotificationFlags = (): NotificationControllerFlags => ({
  eventsAddr: ":9690", receiverAddr: ":9292", rateLimitIntervalMs: DefaultRateLimitIntervalMs, noCrossNamespaceRefs: false,
  gcrJwksUrl: DefaultGoogleJwksUrl,
});

export interface NotificationControllerOptions extends NotificationControllerFlags {
  client: KubeClient;
  /** The manager's recorder: Warning Events on Alerts and Providers. */
  events: EventRecorder;
  logger: Logger;
  /** Scope of the servers' caches, as the manager's watches (--watch-label-selector, namespace). */
  labelSelector?: string;
  namespace?: string;
  /** Retries of failed sends (Flux's: 4 from 1 s, doubling). */
  retry?: RetryPolicy;
  /** Where send attempts are counted (gotk_notification_send_attempts_total); the manager's registry. */
  registry?: Registry;
}

export interface NotificationController {
  eventServer: EventServer;
  receiverServer: ReceiverServer;
  definitions: ControllerDefinition<never>[];
  /** What the servers see (their watch caches). */
  cached: { alerts(): Alert[]; providers(): Provider[]; receivers(): Receiver[] };
  close(): Promise<void>;
}

export async function startNotificationController(o: NotificationControllerOptions): Promise<NotificationController> {
  const log = o.logger.child({ controller: "notification-controller" });
  const watch = <T extends Alert | Provider | Receiver>(resource: ResourceRef) =>
    new Watcher<T>(o.client, { resource, namespace: o.namespace, labelSelector: o.labelSelector, logger: log, onEvent: () => undefined });
  const alerts = watch<Alert>(alertsRes);
  const providers = watch<Provider>(providersRes);
  const receivers = watch<Receiver>(receiversRes);
  const watchers = [alerts, providers, receivers];
  for (const w of watchers) w.start();

  const eventServer = new EventServer({
    client: o.client, events: o.events, logger: log, rateLimitIntervalMs: o.rateLimitIntervalMs, noCrossNamespaceRefs: o.noCrossNamespaceRefs,
    alerts: () => alerts.list(), cachedProvider: (namespace, name) => providers.get({ namespace, name }),
    retry: o.retry, metrics: o.registry ? sendCounter(o.registry) : undefined,
  });
  const receiverServer = new ReceiverServer({
    client: o.client, logger: log, receivers: () => receivers.list(), labelSelector: o.labelSelector, noCrossNamespaceRefs: o.noCrossNamespaceRefs,
    gcrJwksUrl: o.gcrJwksUrl,
  });
  const close = async () => {
    await Promise.all([eventServer.close(), receiverServer.close()]);
    await Promise.all(watchers.map((w) => w.stop()));
  };
  try {
    await eventServer.listen(o.eventsAddr);
    await receiverServer.listen(o.receiverAddr);
    // Serve from synced caches, so the first events do not miss Alerts that already exist.
    await Promise.all(watchers.map((w) => w.waitForSync(AbortSignal.timeout(60_000))));
  } catch (e) {
    await close();
    throw e;
  }
  log.info({ events: eventServer.url, receiver: receiverServer.url }, "notification-controller listening");
  const receiver: ControllerDefinition<Receiver> = { name: "receiver", kind: receiversRes, reconcile: reconcileReceiver() as ControllerDefinition<Receiver>["reconcile"] };
  return {
    eventServer, receiverServer,
    definitions: [receiver, providerCheckController(), alertCheckController()] as ControllerDefinition<never>[],
    cached: { alerts: () => alerts.list(), providers: () => providers.list(), receivers: () => receivers.list() },
    close,
  };
}
