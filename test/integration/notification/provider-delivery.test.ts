// Delivery: failed sends are retried as Flux does (connection errors, 429, 5xx; never 4xx) and
// counted in gotk_notification_send_attempts_total; spec.proxySecretRef, spec.timeout and a
// missing Secret key are honoured or reported with what to fix.
import { expect } from "chai";
import * as net from "node:net";
import { SendMetricName } from "../../../controllers/notification/dispatch";
import { eventually, newNamespace } from "../../support/cluster";
import { startHttpProxy } from "../../support/http-proxy";
import { Recorder, chatRules } from "./recorders";
import { NotificationStack, createProvider, createSecret, fixedEvent, providerCase, waitForEvent, withStackAndRecorder } from "./support";

describe("Provider: retries, metrics, proxy, timeout and missing keys", function () {
  let stack: NotificationStack;
  let rec: Recorder;
  withStackAndRecorder(chatRules, (s, r) => { stack = s; rec = r; });

  async function attempts(type: string): Promise<Record<string, number>> {
    const m = await stack.manager.metrics.registry.getSingleMetric(SendMetricName)?.get();
    const out: Record<string, number> = {};
    for (const v of m?.values ?? []) if (v.labels.provider_type === type) out[String(v.labels.result)] = v.value;
    return out;
  }

  it("retries a 503 and delivers on the next attempt, counting both attempts", async function () {
    const ns = await newNamespace();
    const before = await attempts("rocket");
    rec.force = [{ status: 503, body: "upstream busy" }];
    await providerCase(stack, ns, { type: "rocket" }, { address: rec.url(`/hooks/retry-${ns}`) }, fixedEvent(ns));
    await eventually(() => rec.under(`/hooks/retry-${ns}`).length === 2, { timeoutMs: 20000, what: "two attempts" });
    await eventually(async () => (await attempts("rocket")).success === (before.success ?? 0) + 1, { what: "the success counted" });
    expect((await attempts("rocket")).retry).to.equal((before.retry ?? 0) + 1);
  });

  it("gives up on an unreachable address after the retries, with the connection error in a Warning Event, and counts the failure", async function () {
    const ns = await newNamespace();
    const closed = await new Promise<number>((r) => { const s = net.createServer(); s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    const before = await attempts("googlechat");
    await providerCase(stack, ns, { type: "googlechat" }, { address: `http://127.0.0.1:${closed}/v1/spaces/x/messages` }, fixedEvent(ns));
    await waitForEvent(stack.client, ns, "Alert", "a", /^failed to send notification for GitRepository\/.+\/app: POST http:\/\/127\.0\.0\.1:\d+\/\.\.\.: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(gave up after 3 attempts\)$/, "NotificationDispatchFailed");
    const after = await attempts("googlechat");
    expect(after.failure).to.equal((before.failure ?? 0) + 1);
    expect(after.retry).to.equal((before.retry ?? 0) + 2);
  });

  it("does not retry a 4xx and puts the service's answer in the Event", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "telegram", address: rec.url("/"), channel: "@c" }, { token: "bad" }, fixedEvent(ns));
    await waitForEvent(stack.client, ns, "Alert", "a",
      /POST http:\/\/127\.0\.0\.1:\d+\/\.\.\. failed with status code 401: \{"ok":false,"error_code":401,"description":"Unauthorized"\} \(check the credentials in the secret '.+\/p-secret'\)$/, "NotificationDispatchFailed");
    expect(rec.under("/botbad/")).to.have.length(1);
  });

  it("sends through the proxy in spec.proxySecretRef, with its credentials", async function () {
    const ns = await newNamespace();
    const proxy = await startHttpProxy({ username: "pu", password: "pp" });
    try {
      
      await createSecret(stack.client, ns, "proxy", { address: proxy.url, username: "pu", password: "pp" });
      await providerCase(stack, ns, { type: "generic", address: rec.url(`/proxied-${ns}`), proxySecretRef: { name: "proxy" } }, undefined, fixedEvent(ns));
      await eventually(() => rec.under(`/proxied-${ns}`)[0], { timeoutMs: 20000, what: "the proxied request" });
      expect(proxy.requests).to.deep.equal([`POST ${rec.url(`/proxied-${ns}`)}`]);
    } finally { await proxy.close(); }
  });

  it("times out after spec.timeout", async function () {
    const ns = await newNamespace();
    // A server that accepts and never answers.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => { sockets.push(s); });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      await providerCase(stack, ns, { type: "generic", address: `http://127.0.0.1:${port}/slow`, timeout: "300ms" }, undefined, fixedEvent(ns));
      await waitForEvent(stack.client, ns, "Alert", "a", /: timed out after 300 ms \(spec\.timeout\) \(gave up after 3 attempts\)$/, "NotificationDispatchFailed");
    } finally { for (const s of sockets) s.destroy(); silent.close(); }
  });

  it("reports the Secret keys a type needs, naming the Secret", async function () {
    const ns = await newNamespace();
    
    await createSecret(stack.client, ns, "empty", { address: "http://127.0.0.1:9/" });
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["telegram", { channel: "@c" }, /^a telegram provider needs a 'token' key in the secret '.+\/empty' in spec\.secretRef: the bot token from the BotFather$/],
      ["matrix", {}, /^a matrix provider needs a 'token' key/],
      ["opsgenie", {}, /^a opsgenie provider needs a 'token' key .*the Opsgenie API key$/],
      ["zulip", { channel: "ops/alerts" }, /^a zulip provider needs 'username' \(the bot's email\) and 'password' \(its API key\) keys in the secret/],
      ["pagerduty", {}, /^a pagerduty provider needs spec\.channel: the integration \(routing\) key$/],
      ["bitbucketserver", {}, /^a bitbucketserver provider needs a 'token' key \(HTTP access token\), or 'username' \(or spec\.username\) and 'password' keys/],
      ["nats", { channel: "x" }, /^invalid address for a nats provider: unsupported scheme 'http' \(want nats or tls\)$/],
    ];
    for (const [type, extra] of cases) await createProvider(stack, ns, type, { type: type as never, secretRef: { name: "empty" }, ...extra });
    for (const [type, , want] of cases) await waitForEvent(stack.client, ns, "Provider", type, want, "InvalidConfig");
  });
});
