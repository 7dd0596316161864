// The nats Provider against a real nats-server: the event JSON is published on the subject in
// spec.channel with the Secret's username/password; a refused publish is reported.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { NatsServer, NatsSubscriber, startNatsServer, subscribe } from "../../support/nats-server";
import { NotificationStack, fixedEvent, providerCase, startNotificationStack, waitForEvent } from "./support";

describe("Provider: nats publishes events to a real nats-server", function () {
  let stack: NotificationStack;
  let nats: NatsServer;
  let sub: NatsSubscriber;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    nats = await startNatsServer("flux", "nats-pw");
    sub = await subscribe(nats.port, "flux", "nats-pw", "flux.>");
  });
  after(async () => { sub?.close(); await stack?.stop(); await nats?.close(); });

  it("publishes the event JSON on the subject with username/password from the Secret", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "nats", address: nats.url, channel: `flux.${ns}` }, { username: "flux", password: "nats-pw" }, fixedEvent(ns));
    const m = await eventually(() => sub.messages.find((x) => x.subject === `flux.${ns}`), { timeoutMs: 20000, what: "the NATS message" });
    const ev = JSON.parse(m.data);
    expect(ev.involvedObject).to.include({ kind: "GitRepository", name: "app", namespace: ns });
    expect(ev.metadata).to.deep.equal({ env: "prod", revision: "main@sha1:0123456789abcdef0123456789abcdef01234567" });
    expect(ev.message).to.equal("failed to checkout 'main'");
  });

  it("reports the server's refusal: wrong password, and a subject the user may not publish to", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "nats", address: nats.url, channel: `flux.${ns}` }, { username: "flux", password: "wrong" }, fixedEvent(ns));
    await waitForEvent(stack.client, ns, "Alert", "a", /nats server nats:\/\/127\.0\.0\.1:\d+\/ refused the publish: Authorization Violation/, "NotificationDispatchFailed");
    const ns2 = await newNamespace();
    await providerCase(stack, ns2, { type: "nats", address: nats.url, channel: `other.${ns2}` }, { username: "flux", password: "nats-pw" }, fixedEvent(ns2));
    await waitForEvent(stack.client, ns2, "Alert", "a", /refused the publish: Permissions Violation for Publish to "?other\./, "NotificationDispatchFailed");
  });
});
