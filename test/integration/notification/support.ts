// The notification tests' stack: the source controller and the notification controller in one
// Manager against the real API server (scoped by an instance label), our events forwarded to
// the events endpoint over loopback HTTP as `--events-addr` does, and webhook sinks on
// 127.0.0.1 standing in for Slack/Teams/any HTTP receiver.
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { AlertNames, type Alert } from "../../../controllers/api/notification/v1beta3/alert";
import { ProviderNames, type Provider } from "../../../controllers/api/notification/v1beta3/provider";
import { ReceiverNames, type Receiver } from "../../../controllers/api/notification/v1/receiver";
import { NotificationController, startNotificationController } from "../../../controllers/notification/setup";
import type { RetryPolicy } from "../../../controllers/notification/provider-config";
import { EventForwarder, forwardEvents } from "../../../controllers/runtime/event-forwarder";
import { KubeClient } from "../../../controllers/runtime/kube";
import { Manager } from "../../../controllers/runtime/manager";
import { startSourceController } from "../../../controllers/source/setup";
import { eventually, getCluster, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds, testManager } from "../../support/controllers";
import { RecordedRequest, readRecordedRequest } from "../../support/recorded-request";
import { onTeardown } from "../../support/teardown";
import { Recorder, Responder, startRecorder } from "./recorders";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const providers = { group: ProviderNames.group, version: ProviderNames.version, plural: ProviderNames.plural, kind: ProviderNames.kind };
export const alerts = { group: AlertNames.group, version: AlertNames.version, plural: AlertNames.plural, kind: AlertNames.kind };
export const receivers = { group: ReceiverNames.group, version: ReceiverNames.version, plural: ReceiverNames.plural, kind: ReceiverNames.kind };
const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const coreEvents = { group: "", version: "v1", plural: "events", kind: "Event" };

export interface NotificationStack {
  manager: Manager;
  client: KubeClient;
  labels: Record<string, string>;
  notification: NotificationController;
  forwarder: EventForwarder;
  /** `http://127.0.0.1:<port>/`: the events endpoint. */
  eventsUrl: string;
  /** `http://127.0.0.1:<port>`: the webhook receiver. */
  receiverUrl: string;
  stop(): Promise<void>;
}

export async function startNotificationStack(opts: { rateLimitIntervalMs?: number; retry?: RetryPolicy; gcrJwksUrl?: string } = {}): Promise<NotificationStack> {
  await installCrds();
  const { kc } = await getCluster();
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-storage-"));
  const source = await startSourceController({ storagePath: storageDir, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
  const instance = `notification-${randomSuffix(8)}`;
  const labelSelector = `${INSTANCE_LABEL}=${instance}`;
  const manager = testManager(kc, "gitops-test-controllers", instance);
  const logger = manager.log;
  const notification = await startNotificationController({
    client: manager.client, events: manager.events, logger, labelSelector,
    eventsAddr: "127.0.0.1:0", receiverAddr: "127.0.0.1:0", rateLimitIntervalMs: opts.rateLimitIntervalMs ?? 5 * 60_000, noCrossNamespaceRefs: false,
    // Flux's retry count, with short delays so failing sends end within a test.
    retry: opts.retry ?? { retries: 2, baseMs: 50 }, registry: manager.metrics.registry, gcrJwksUrl: opts.gcrJwksUrl,
  });
  for (const d of [...source.definitions, ...notification.definitions]) manager.add(d);
  const forwarder = forwardEvents(manager.events, { address: notification.eventServer.url, reportingController: "gitops-test-controllers", logger, retries: 1, retryBaseMs: 100 });
  await manager.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await manager.stop();
    await forwarder.flush();
    await notification.close();
    await source.close();
    fs.rmSync(storageDir, { recursive: true, force: true });
  };
  onTeardown(stop);
  return {
    manager, client: manager.client, labels: { [INSTANCE_LABEL]: instance }, notification, forwarder,
    eventsUrl: notification.eventServer.url, receiverUrl: notification.receiverServer.url, stop,
  };
}

type Labelled = { client: KubeClient; labels: Record<string, string> };

export function createSecret(client: KubeClient, namespace: string, name: string, stringData: Record<string, string>) {
  return client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, stringData } as never);
}

export function createProvider(s: Labelled, namespace: string, name: string, spec: Provider["spec"]): Promise<Provider> {
  return s.client.create(providers, { apiVersion: ProviderNames.apiVersion, kind: ProviderNames.kind, metadata: { name, namespace, labels: s.labels }, spec } as Provider);
}

export function createAlert(s: Labelled, namespace: string, name: string, spec: Alert["spec"]): Promise<Alert> {
  return s.client.create(alerts, { apiVersion: AlertNames.apiVersion, kind: AlertNames.kind, metadata: { name, namespace, labels: s.labels }, spec } as Alert);
}

export function createReceiver(s: Labelled, namespace: string, name: string, spec: Receiver["spec"]): Promise<Receiver> {
  return s.client.create(receivers, { apiVersion: ReceiverNames.apiVersion, kind: ReceiverNames.kind, metadata: { name, namespace, labels: s.labels }, spec } as Receiver);
}

export interface CoreEvent { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } }

/** Waits for a core v1 Event about `kind/name` whose message matches. */
export function waitForEvent(client: KubeClient, namespace: string, kind: string, name: string, message: RegExp, reason?: string): Promise<CoreEvent> {
  let seen: string[] = [];
  return eventually(async () => {
    const list = await client.list<CoreEvent & { metadata: object }>(coreEvents, { namespace });
    const mine = list.items.filter((e) => e.involvedObject?.kind === kind && e.involvedObject?.name === name);
    seen = mine.map((e) => `${e.type} ${e.reason}: ${e.message}`);
    return mine.find((e) => message.test(e.message ?? "") && (!reason || e.reason === reason));
  }, { timeoutMs: 30000, what: `an Event on ${kind} ${namespace}/${name} matching ${message}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; events seen: ${JSON.stringify(seen)}`); });
}

/** Posts an event to the events endpoint as a Flux controller would; returns the status. */
export async function postEvent(eventsUrl: string, ev: Record<string, unknown>): Promise<number> {
  const res = await fetch(eventsUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ev) });
  await res.arrayBuffer();
  return res.status;
}

/** A Flux event/v1 about a GitRepository, for tests that post events directly. */
export function gitRepositoryEvent(namespace: string, name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    involvedObject: { kind: "GitRepository", namespace, name, apiVersion: "source.toolkit.fluxcd.io/v1" },
    severity: "info", timestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z"), message: "stored artifact for commit 'x'",
    reason: "NewArtifact", reportingController: "source-controller", ...over,
  };
}

export type SinkRequest = RecordedRequest;

/** An HTTP receiver on 127.0.0.1 that records every request and answers `status`. */
export interface WebhookSink {
  url(path?: string): string;
  requests: SinkRequest[];
  status: number;
  /** Requests to `path` (default all). */
  at(path: string): SinkRequest[];
  close(): Promise<void>;
}

/** `host`: the address to listen on, e.g. the real node's bridge address so pods reach it. */
export async function startWebhookSink(host = "127.0.0.1"): Promise<WebhookSink> {
  const sink: Partial<WebhookSink> & { requests: SinkRequest[]; status: number } = { requests: [], status: 200 };
  const server = http.createServer((req, res) => {
    void readRecordedRequest(req).then((r) => { sink.requests.push(r); res.writeHead(sink.status).end(); }, () => res.destroy());
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const port = (server.address() as AddressInfo).port;
  const close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  onTeardown(close);
  return Object.assign(sink, {
    url: (p = "/") => `http://${host}:${port}${p}`,
    at: (p: string) => sink.requests.filter((r) => r.path === p),
    close,
  }) as WebhookSink;
}

/** Waits until the events endpoint's cache has the Alert (a fresh Alert misses events until then). */
export function waitForAlertCached(s: NotificationStack, namespace: string, name: string): Promise<unknown> {
  return eventually(() => s.notification.cached.alerts().some((a) => a.metadata.namespace === namespace && a.metadata.name === name),
    { what: `Alert ${namespace}/${name} in the event server's cache` });
}

/** Waits until the Receiver's Ready condition has `status` (and `reason`, when given). */
export function waitForReceiver(client: KubeClient, namespace: string, name: string, want: { ready: "True" | "False"; reason?: string }): Promise<Receiver> {
  let last: Receiver | undefined;
  return eventually(async () => {
    last = await client.get<Receiver>(receivers, { namespace, name });
    const ready = last?.status?.conditions?.find((c) => c.type === "Ready");
    return ready?.status === want.ready && (!want.reason || ready.reason === want.reason) ? last : undefined;
  }, { timeoutMs: 30000, what: `Receiver ${namespace}/${name} Ready=${want.ready}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; last conditions: ${JSON.stringify(last?.status?.conditions)}`); });
}

/** An event as source-controller posts it, with a fixed time so payloads are exact. */
export function fixedEvent(ns: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return gitRepositoryEvent(ns, "app", {
    timestamp: "2026-01-02T03:04:05Z", severity: "error", reason: "GitOperationFailed", message: "failed to checkout 'main'",
    metadata: { "source.toolkit.fluxcd.io/revision": "main@sha1:0123456789abcdef0123456789abcdef01234567" }, ...over,
  });
}

/**
 * Secret `secretName` (default `<provider>-secret`) (when `secret` is given, referenced by the
 * Provider), Provider `provider` and Alert `alert` on it, waited for in the events endpoint's cache.
 */
export async function providerWithAlert(s: NotificationStack, ns: string, o: {
  provider: string; spec: Provider["spec"]; secret?: Record<string, string>; secretName?: string; alert?: string; alertSpec: Omit<Alert["spec"], "providerRef">;
}): Promise<Provider> {
  const secretName = o.secretName ?? `${o.provider}-secret`;
  if (o.secret) await createSecret(s.client, ns, secretName, o.secret);
  const p = await createProvider(s, ns, o.provider, { ...o.spec, ...(o.secret ? { secretRef: { name: secretName } } : {}) });
  await createAlert(s, ns, o.alert ?? "a", { providerRef: { name: o.provider }, ...o.alertSpec });
  await waitForAlertCached(s, ns, o.alert ?? "a");
  return p;
}

/**
 * Secret (when given), Provider `p` and Alert `a` (all GitRepository events, eventMetadata
 * env=prod) in `ns`, then posts `ev`; returns the Provider.
 */
export async function providerCase(s: NotificationStack, ns: string, spec: Provider["spec"], secret: Record<string, string> | undefined,
  ev: Record<string, unknown>, alert: Partial<Alert["spec"]> = {}): Promise<Provider> {
  const p = await providerWithAlert(s, ns, { provider: "p", spec, secret,
    alertSpec: { eventSources: [{ kind: "GitRepository", name: "*" }], eventMetadata: { env: "prod" }, ...alert } });
  const code = await postEvent(s.eventsUrl, ev);
  if (code !== 202) throw new Error(`the events endpoint answered ${code}`);
  return p;
}

/** Mocha hooks shared by the provider tests: a notification stack and a recorder answering by `respond`, stopped after the suite. */
export function withStackAndRecorder(respond: Responder, set: (stack: NotificationStack, rec: Recorder) => void): void {
  let stack: NotificationStack | undefined;
  let rec: Recorder | undefined;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    rec = await startRecorder(respond);
    set(stack, rec);
  });
  after(async () => { await stack?.stop(); await rec?.close(); });
}
