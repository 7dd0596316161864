// The nats Provider against a real nats-server: the event JSON is published on the subject in
// spec.channel with the Secret's username/password; a refused publish is reported.
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { encodeUserSeed, userFromSeed } from "../../../controllers/notification/nkeys";
import { eventually, newNamespace } from "../../support/cluster";
import { NatsServer, NatsSubscriber, startNatsServer, subscribe } from "../../support/nats-server";
import { NotificationStack, fixedEvent, providerCase, startNotificationStack, waitForEvent } from "./support";

describe("Provider: nats publishes events to a real nats-server", function () {
  let stack: NotificationStack;
  let nats: NatsServer;
  let sub: NatsSubscriber;
  const seed = encodeUserSeed(randomBytes(32));
  const other = encodeUserSeed(randomBytes(32));
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    nats = await startNatsServer("flux", "nats-pw", userFromSeed(seed).publicKey);
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

  it("authenticates with an NKey: the Secret's 'nkey' user seed signs the server's nonce", async function () {
    expect(seed).to.match(/^SU[A-Z2-7]{56}$/);
    expect(userFromSeed(seed).publicKey).to.match(/^U[A-Z2-7]{55}$/);
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "nats", address: nats.url, channel: `flux.${ns}` }, { nkey: seed }, fixedEvent(ns));
    const m = await eventually(() => sub.messages.find((x) => x.subject === `flux.${ns}`), { timeoutMs: 20000, what: "the NATS message" });
    expect(JSON.parse(m.data).involvedObject).to.include({ kind: "GitRepository", name: "app", namespace: ns });
    // A seed the server does not know: refused.
    const ns2 = await newNamespace();
    await providerCase(stack, ns2, { type: "nats", address: nats.url, channel: `flux.${ns2}` }, { nkey: other }, fixedEvent(ns2));
    await waitForEvent(stack.client, ns2, "Alert", "a", /refused the publish: Authorization Violation/, "NotificationDispatchFailed");
  });

  it("reports a malformed nkey and the unsupported 'creds' key on the Provider, saying what to use", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "nats", address: nats.url, channel: `flux.${ns}` }, { nkey: "SUNOTASEED" }, fixedEvent(ns));
    await waitForEvent(stack.client, ns, "Provider", "p", /^invalid 'nkey' key in secret '.+\/p-secret': not an NKey seed \(want the 58-character 'SU\.\.\.' user seed\)$/, "InvalidConfig");
    const ns2 = await newNamespace();
    await providerCase(stack, ns2, { type: "nats", address: nats.url, channel: `flux.${ns2}` }, { creds: "-----BEGIN NATS USER JWT-----" }, fixedEvent(ns2));
    await waitForEvent(stack.client, ns2, "Provider", "p", /the 'creds' key \(NATS JWT credentials\) in secret '.+\/p-secret' is not supported by this notification-controller: use an 'nkey' key/, "InvalidConfig");
  });
});
