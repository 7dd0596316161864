// Alerting and observability Providers: the exact request each type sends, against recording
// servers answering as the services' APIs do (auth refused without the documented header).
import { expect } from "chai";
import { createHash, createHmac } from "node:crypto";
import { eventually, newNamespace } from "../../support/cluster";
import { Recorder, alertingRules, startRecorder, testCertificates } from "./recorders";
import { NotificationStack, createAlert, createProvider, createSecret, fixedEvent, postEvent, providerCase, waitForAlertCached, withStackAndRecorder } from "./support";

describe("Provider: alerting and observability services get the payloads their APIs document", function () {
  let stack: NotificationStack;
  let rec: Recorder;
  withStackAndRecorder(alertingRules, (s, r) => { stack = s; rec = r; });

  const rev = "main@sha1:0123456789abcdef0123456789abcdef01234567";
  const title = (ns: string) => `GitRepository/app.${ns}`;
  const find = (prefix: string, ns: string) => eventually(() => rec.under(prefix).find((r) => r.body.includes(ns)), { timeoutMs: 20000, what: `a request at ${prefix}` });

  it("generic-hmac: the event JSON signed with X-Signature: sha256=<HMAC of the body>, and the Secret's headers", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "generic-hmac", address: rec.url(`/hook-${ns}`) }, { token: "s3cret", headers: "X-Team: platform\n" }, fixedEvent(ns));
    const r = await eventually(() => rec.under(`/hook-${ns}`)[0], { what: "the webhook request" });
    expect(r.headers["x-signature"]).to.equal(`sha256=${createHmac("sha256", "s3cret").update(r.body).digest("hex")}`);
    expect(r.headers["x-team"]).to.equal("platform");
    expect(r.headers["gotk-component"]).to.equal("source-controller");
    expect(r.json.metadata).to.deep.equal({ env: "prod", revision: rev });
  });

  it("opsgenie: an alert with GenieKey auth, metadata in details", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "opsgenie", address: rec.url("/v2/alerts") }, { token: "og-key" }, fixedEvent(ns));
    const r = await find("/v2/alerts", ns);
    expect(r.headers.authorization).to.equal("GenieKey og-key");
    expect(r.json).to.deep.equal({ message: title(ns), description: "failed to checkout 'main'", tags: ["flux", "error"],
      details: { env: "prod", revision: rev, severity: "error", reason: "GitOperationFailed" } });
  });

  it("pagerduty: an error triggers an Events API v2 alert keyed by the object", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "pagerduty", address: rec.url("/"), channel: "routing-1" }, undefined, fixedEvent(ns));
    const r = await find("/v2/enqueue", ns);
    expect(r.json).to.deep.equal({ routing_key: "routing-1", event_action: "trigger", dedup_key: `GitRepository/${ns}/app`, payload: {
      summary: `${title(ns)}: failed to checkout 'main'`, source: "source-controller", severity: "error", timestamp: "2026-01-02T03:04:05Z",
      component: "app", group: "GitRepository", class: "GitOperationFailed", custom_details: { env: "prod", revision: rev } } });
  });

  it("pagerduty: an info event resolves the alert and sends a change event", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "pagerduty", address: rec.url("/"), channel: "routing-1" }, undefined, fixedEvent(ns, { severity: "info", reason: "NewArtifact", message: "stored" }));
    const change = await find("/v2/change/enqueue", ns);
    const resolve = rec.under("/v2/enqueue").find((r) => r.json?.dedup_key === `GitRepository/${ns}/app`);
    expect(resolve?.json).to.deep.equal({ routing_key: "routing-1", event_action: "resolve", dedup_key: `GitRepository/${ns}/app` });
    expect(change.json).to.deep.equal({ routing_key: "routing-1", payload: { summary: `${title(ns)}: stored`, source: "source-controller",
      timestamp: "2026-01-02T03:04:05Z", custom_details: { env: "prod", revision: rev } } });
  });

  it("datadog: POST /api/v1/events with DD-API-KEY, metadata as tags", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "datadog", address: rec.url("/") }, { token: "dd-key" }, fixedEvent(ns));
    const r = await find("/api/v1/events", ns);
    expect(r.headers["dd-api-key"]).to.equal("dd-key");
    expect(r.json).to.deep.equal({ title: title(ns), text: "failed to checkout 'main'", alert_type: "error", source_type_name: "fluxcd",
      aggregation_key: title(ns), date_happened: Date.parse("2026-01-02T03:04:05Z") / 1000,
      tags: ["flux", "kind:GitRepository", "name:app", `namespace:${ns}`, "reason:GitOperationFailed", "env:prod", `revision:${rev}`] });
  });

  it("sentry: an error event in an envelope to the DSN's project, with X-Sentry-Auth and the channel as environment", async function () {
    const ns = await newNamespace();
    const dsn = rec.url("/42").replace("http://", "http://pubkey1@");
    await providerCase(stack, ns, { type: "sentry", channel: "staging" }, { address: dsn }, fixedEvent(ns));
    const r = await find("/api/42/envelope/", ns);
    expect(r.headers["content-type"]).to.equal("application/x-sentry-envelope");
    expect(r.headers["x-sentry-auth"]).to.match(/^Sentry sentry_version=7, sentry_client=[^,]+, sentry_key=pubkey1$/);
    const [header, item, payload] = r.body.trim().split("\n").map((l) => JSON.parse(l));
    expect(header).to.include({ dsn });
    expect(item).to.deep.equal({ type: "event", content_type: "application/json" });
    expect(payload.event_id).to.equal(header.event_id).and.match(/^[0-9a-f]{32}$/);
    expect(payload).to.deep.include({ level: "error", environment: "staging", message: { formatted: "failed to checkout 'main'" },
      extra: { env: "prod", revision: rev }, timestamp: Date.parse("2026-01-02T03:04:05Z") / 1000 });
  });

  it("sentry: an info event is a transaction with one span carrying the metadata as tags", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "sentry" }, { address: rec.url("/43").replace("http://", "http://k@") }, fixedEvent(ns, { severity: "info", reason: "NewArtifact", message: "stored" }));
    const r = await find("/api/43/envelope/", ns);
    const [, item, payload] = r.body.trim().split("\n").map((l) => JSON.parse(l));
    expect(item.type).to.equal("transaction");
    expect(payload).to.include({ type: "transaction", transaction: title(ns) });
    expect(payload.spans).to.have.length(1);
    expect(payload.spans[0]).to.deep.include({ op: "NewArtifact", description: "stored", tags: { env: "prod", revision: rev }, parent_span_id: payload.contexts.trace.span_id });
  });

  it("alertmanager: a postable alert with labels from the event and metadata, the message and summary as annotations, basic auth from the URL", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "alertmanager" }, { address: rec.url("/api/v2/alerts/").replace("http://", "http://am:pw@") },
      fixedEvent(ns), { eventMetadata: { env: "prod", summary: "cluster one" } });
    const r = await find("/api/v2/alerts", ns);
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from("am:pw").toString("base64")}`);
    expect(r.json).to.deep.equal([{ labels: { alertname: "FluxGitRepositoryGitOperationFailed", severity: "error", reason: "GitOperationFailed",
      kind: "GitRepository", name: "app", namespace: ns, env: "prod", revision: rev },
    annotations: { message: "failed to checkout 'main'", summary: "cluster one" }, startsAt: "2026-01-02T03:04:05Z" }]);
  });

  it("grafana: an annotation tagged flux, the controller, the metadata and the object; bearer token", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "grafana", address: rec.url("/api/annotations") }, { token: "glsa" }, fixedEvent(ns));
    const r = await find("/api/annotations", ns);
    expect(r.headers.authorization).to.equal("Bearer glsa");
    expect(r.json).to.deep.equal({ time: Date.parse("2026-01-02T03:04:05Z"), text: `${title(ns)}: failed to checkout 'main'`,
      tags: ["flux", "source-controller", "env: prod", `revision: ${rev}`, "kind: GitRepository", "name: app", `namespace: ${ns}`] });
  });

  it("githubdispatch: a repository_dispatch with event_type Kind/name.namespace and the event as client_payload", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "githubdispatch", address: rec.url("/org/repo") }, { token: "ghp_1" }, fixedEvent(ns));
    const r = await find("/api/v3/repos/org/repo/dispatches", ns);
    expect(r.headers.authorization).to.equal("Bearer ghp_1");
    expect(r.headers.accept).to.equal("application/vnd.github+json");
    expect(r.json.event_type).to.equal(title(ns));
    expect(r.json.client_payload).to.include({ message: "failed to checkout 'main'", severity: "error", reason: "GitOperationFailed" });
    expect(r.json.client_payload.metadata).to.deep.equal({ env: "prod", revision: rev });
  });

  it("azureeventhub: the event to <namespace>/<hub>/messages over TLS (certSecretRef), with a SAS token from the connection string", async function () {
    const ns = await newNamespace();
    const certs = await testCertificates();
    const tlsRec = await startRecorder(alertingRules, certs);
    try {
      const host = new URL(tlsRec.url()).host;
      await createSecret(stack.client, ns, "ca", { "ca.crt": certs.caPem });
      await providerCase(stack, ns, { type: "azureeventhub", certSecretRef: { name: "ca" } },
        { address: `Endpoint=sb://${host}/;SharedAccessKeyName=send;SharedAccessKey=k3y;EntityPath=flux` }, fixedEvent(ns));
      const r = await eventually(() => tlsRec.under("/flux/messages")[0], { timeoutMs: 20000, what: "the Event Hubs request" });
      expect(r.headers["content-type"]).to.equal("application/atom+xml;type=entry;charset=utf-8");
      const m = /^SharedAccessSignature sr=([^&]+)&sig=([^&]+)&se=(\d+)&skn=send$/.exec(String(r.headers.authorization));
      expect(m, String(r.headers.authorization)).to.not.equal(null);
      expect(decodeURIComponent(m![1])).to.equal(`https://${host}/flux`);
      expect(decodeURIComponent(m![2])).to.equal(createHmac("sha256", "k3y").update(`${m![1]}\n${m![3]}`).digest("base64"));
      expect(r.json.involvedObject.namespace).to.equal(ns);
    } finally { await tlsRec.close(); }
  });

  it("googlepubsub: publishes the event base64-encoded, the Secret's headers as attributes (through PUBSUB_EMULATOR_HOST)", async function () {
    const ns = await newNamespace();
    // Google's clients send to an emulator named by PUBSUB_EMULATOR_HOST, without credentials;
    // the recorder plays the emulator's REST API.
    const prev = process.env.PUBSUB_EMULATOR_HOST;
    process.env.PUBSUB_EMULATOR_HOST = new URL(rec.url()).host;
    try {
      await providerCase(stack, ns, { type: "googlepubsub", address: "my-project", channel: `topic-${ns}` }, { headers: "team: a\n" }, fixedEvent(ns));
      const r = await eventually(() => rec.under(`/v1/projects/my-project/topics/topic-${ns}:publish`)[0], { timeoutMs: 20000, what: "the publish" });
      expect(r.headers.authorization).to.equal(undefined);
      expect(r.json.messages).to.have.length(1);
      expect(r.json.messages[0].attributes).to.deep.equal({ team: "a" });
      const ev = JSON.parse(Buffer.from(r.json.messages[0].data, "base64").toString("utf8"));
      expect(ev.involvedObject.namespace).to.equal(ns);
      expect(ev.metadata).to.deep.equal({ env: "prod", revision: rev });
    } finally {
      if (prev === undefined) delete process.env.PUBSUB_EMULATOR_HOST; else process.env.PUBSUB_EMULATOR_HOST = prev;
    }
  });

  it("otel: an OTLP/HTTP JSON span to /v1/traces, trace ID from the Alert UID and revision, basic auth", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "otel", { username: "u", password: "p" });
    await createProvider(stack, ns, "otel", { type: "otel", address: rec.url("/"), secretRef: { name: "otel" } });
    const alert = await createAlert(stack, ns, "a", { providerRef: { name: "otel" }, eventSources: [{ kind: "GitRepository", name: "*" }] });
    await waitForAlertCached(stack, ns, "a");
    expect(await postEvent(stack.eventsUrl, fixedEvent(ns))).to.equal(202);
    const r = await eventually(() => rec.under("/v1/traces").find((x) => x.body.includes(`${ns}/a`)), { timeoutMs: 20000, what: "the OTLP request" });
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from("u:p").toString("base64")}`);
    const rs = r.json.resourceSpans[0];
    expect(rs.resource.attributes).to.deep.equal([{ key: "service.name", value: { stringValue: `${ns}/a` } }]);
    const span = rs.scopeSpans[0].spans[0];
    expect(span.traceId).to.equal(createHash("sha256").update(`${alert.metadata.uid}:${rev}`).digest("hex").slice(0, 32));
    expect(span).to.include({ name: `${title(ns)}: GitOperationFailed`, kind: 1 });
    expect(span.parentSpanId).to.equal(undefined);
    expect(span.status).to.deep.equal({ code: 2 });
    expect(span.startTimeUnixNano).to.equal(String(BigInt(Date.parse("2026-01-02T03:04:05Z")) * 1_000_000n));
  });
});
