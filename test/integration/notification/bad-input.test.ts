import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import {
  NotificationStack, WebhookSink, createAlert, createProvider, createReceiver, createSecret, gitRepositoryEvent, postEvent,
  startNotificationStack, startWebhookSink, waitForAlertCached, waitForEvent, waitForReceiver,
} from "./support";

describe("Provider, Alert and Receiver: bad input", function () {
  let stack: NotificationStack;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
  });
  after(async () => { await stack?.stop(); });

  const source = [{ kind: "GitRepository" as const, name: "*" }];
  /** An Alert on Provider `p`, ready to receive a posted event. */
  async function alertOn(ns: string, provider: string): Promise<void> {
    await createAlert(stack, ns, "alert", { providerRef: { name: provider }, eventSources: source });
    await waitForAlertCached(stack, ns, "alert");
  }

  it("reports a Provider whose Secret is missing: on the Provider at once, on the Alert when an event comes", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "p", { type: "generic", address: "http://127.0.0.1:9/", secretRef: { name: "missing" } });
    await waitForEvent(stack.client, ns, "Provider", "p", /^failed to get secret '.+\/missing': secrets "missing" not found$/, "InvalidConfig");
    await alertOn(ns, "p");
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo"))).to.equal(202);
    const ev = await waitForEvent(stack.client, ns, "Alert", "alert", /^failed to dispatch notification for GitRepository\/.+\/repo: failed to initialize notifier for provider 'p': failed to get secret/, "NotificationDispatchFailed");
    expect(ev.type).to.equal("Warning");
  });

  it("reports workload identity (spec.serviceAccountName), which this controller does not support, saying what to use", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "p", { type: "generic", address: "http://127.0.0.1:9/", serviceAccountName: "sa" });
    const want = /spec\.serviceAccountName \(workload identity\) is not supported by this notification-controller: use a token in spec\.secretRef/;
    await waitForEvent(stack.client, ns, "Provider", "p", want, "InvalidConfig");
    await alertOn(ns, "p");
    await waitForEvent(stack.client, ns, "Alert", "alert", /^provider '.+\/p' cannot be used: spec\.serviceAccountName/, "InvalidConfig");
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo"))).to.equal(202);
    await waitForEvent(stack.client, ns, "Alert", "alert", want, "NotificationDispatchFailed");
  });

  it("has the API server reject a provider type Flux does not define", async function () {
    const ns = await newNamespace();
    let err: Error | undefined;
    try { await createProvider(stack, ns, "p", { type: "carrier-pigeon" as never }); } catch (e) { err = e as Error; }
    expect(err?.message).to.match(/spec\.type: Unsupported value: "carrier-pigeon"/);
  });

  it("reports a malformed address, in spec.address or in the Secret, without printing the Secret's value", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "spaces", { type: "generic", address: "not a url" });
    await createProvider(stack, ns, "ftp", { type: "generic", address: "ftp://example.com/hook" });
    await createSecret(stack.client, ns, "bad-address", { address: "hooks.slack.com/services/T0/B0/very-secret" });
    await createProvider(stack, ns, "from-secret", { type: "slack", secretRef: { name: "bad-address" } });
    await createProvider(stack, ns, "none", { type: "generic" });
    await waitForEvent(stack.client, ns, "Provider", "spaces", /^invalid address in spec\.address: 'not a url' is not a URL$/, "InvalidConfig");
    await waitForEvent(stack.client, ns, "Provider", "ftp", /^invalid address in spec\.address: unsupported scheme 'ftp' \(want http or https\)$/);
    const fromSecret = await waitForEvent(stack.client, ns, "Provider", "from-secret", /^invalid address in the 'address' key of secret '.+\/bad-address'/);
    expect(fromSecret.message).to.not.contain("very-secret");
    await waitForEvent(stack.client, ns, "Provider", "none", /^provider has no address: set spec\.address or the 'address' key/);
  });

  it("reports a generic-hmac Provider without a token, and a webhook that answers 500", async function () {
    const ns = await newNamespace();
    const failing: WebhookSink = await startWebhookSink();
    failing.status = 500;
    try {
      await createSecret(stack.client, ns, "no-token", { headers: "X-A: b\n" });
      await createProvider(stack, ns, "hmac", { type: "generic-hmac", address: failing.url("/hmac"), secretRef: { name: "no-token" } });
      await waitForEvent(stack.client, ns, "Provider", "hmac", /generic-hmac provider needs a 'token' key/, "InvalidConfig");
      await createProvider(stack, ns, "down", { type: "generic", address: failing.url("/down") });
      await alertOn(ns, "down");
      expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo"))).to.equal(202);
      await waitForEvent(stack.client, ns, "Alert", "alert",
        /^failed to send notification for GitRepository\/.+\/repo: POST http:\/\/127\.0\.0\.1:\d+\/\.\.\. failed with status code 500 \(gave up after 3 attempts\)$/, "NotificationDispatchFailed");
      expect(failing.at("/down")).to.have.length(3);
    } finally {
      await failing.close();
    }
  });

  it("reports an Alert whose Provider does not exist, a regex that does not compile, and matchLabels without '*'", async function () {
    const ns = await newNamespace();
    await createAlert(stack, ns, "a", {
      providerRef: { name: "nope" }, exclusionList: ["(unclosed"],
      eventSources: [{ kind: "GitRepository", name: "app", matchLabels: { team: "a" } }],
    });
    await waitForEvent(stack.client, ns, "Alert", "a", /^provider '.+\/nope' in spec\.providerRef not found$/, "InvalidConfig");
    await waitForEvent(stack.client, ns, "Alert", "a", /^failed to compile exclusion regex: \(unclosed: /, "InvalidConfig");
    await waitForEvent(stack.client, ns, "Alert", "a", /^eventSources: matchLabels requires name '\*' \(got 'app' for kind GitRepository\)$/);
  });

  it("leaves a Receiver without its Secret not Ready (TokenNotFound, retrying), then Ready once the Secret exists", async function () {
    const ns = await newNamespace();
    await createReceiver(stack, ns, "r", { type: "github", secretRef: { name: "later" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const r = await waitForReceiver(stack.client, ns, "r", { ready: "False", reason: "TokenNotFound" });
    const ready = r.status!.conditions!.find((c) => c.type === "Ready")!;
    expect(ready.message).to.equal(`unable to read token from secret '${ns}/later' error: secrets "later" not found`);
    expect(r.status!.conditions!.find((c) => c.type === "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    expect(r.status!.webhookPath).to.equal(undefined);
    await waitForEvent(stack.client, ns, "Receiver", "r", /unable to read token from secret/, "Failed");

    await createSecret(stack.client, ns, "later", { other: "x" });
    await waitForEvent(stack.client, ns, "Receiver", "r", new RegExp(`^invalid '${ns}/later' secret data: required fields 'token'$`));
    await stack.client.patch({ group: "", version: "v1", plural: "secrets", kind: "Secret" }, { namespace: ns, name: "later" }, { stringData: { token: "t" } });
    const ok = await waitForReceiver(stack.client, ns, "r", { ready: "True" });
    expect(ok.status!.webhookPath).to.match(/^\/hook\/[0-9a-f]{64}$/);
  });

  it("stalls a Receiver this controller cannot serve: a CEL resource filter that does not parse", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "tok", { token: "t" });
    const resources = [{ kind: "GitRepository" as const, name: "app" }];
    await createReceiver(stack, ns, "cel", { type: "generic", secretRef: { name: "tok" }, resources, resourceFilter: "res.metadata.name == " });
    const r = await waitForReceiver(stack.client, ns, "cel", { ready: "False", reason: "ValidationFailed" });
    expect(r.status!.conditions!.find((c) => c.type === "Ready")!.message).to.match(/spec\.resourceFilter: invalid CEL expression 'res\.metadata\.name == ': unexpected end of expression/);
    expect(r.status!.conditions!.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "ValidationFailed" });
  });

  it("refuses malformed events with 400", async function () {
    for (const body of ["not json", "[]", JSON.stringify({ severity: "info" }), JSON.stringify(gitRepositoryEvent("ns", "x", { metadata: { a: 1 } }))]) {
      const res = await fetch(stack.eventsUrl, { method: "POST", body, headers: { "content-type": "application/json" } });
      expect(res.status, body).to.equal(400);
    }
    expect((await fetch(stack.eventsUrl)).status).to.equal(405);
  });
});
