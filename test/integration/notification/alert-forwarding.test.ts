import { expect } from "chai";
import { createHmac } from "node:crypto";
import { GitRepositoryNames } from "../../../controllers/api/source/v1/git-repository";
import { eventually, newNamespace } from "../../support/cluster";
import { GitServers, startGitServers } from "../../support/git-server";
import { createGitRepository } from "../source/support";
import {
  NotificationStack, WebhookSink, createAlert, createProvider, createSecret, gitRepositoryEvent, postEvent, startNotificationStack,
  startWebhookSink, waitForAlertCached,
} from "./support";

describe("Alert: events from our controllers reach Providers", function () {
  let stack: NotificationStack;
  let sink: WebhookSink;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    sink = await startWebhookSink();
    git = await startGitServers({ http: {}, files: { "app.yaml": "a: 1\n" } });
  });
  after(async () => { await stack?.stop(); await sink?.close(); await git?.close(); });

  const gitSource = (name = "*") => [{ kind: "GitRepository" as const, name }];

  it("sends a GitRepository's NewArtifact event to a generic webhook, with the revision in the metadata", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "hook", { type: "generic", address: sink.url("/generic") });
    await createAlert(stack, ns, "all", { providerRef: { name: "hook" }, eventSources: gitSource(), eventMetadata: { env: "test" }, summary: "cluster one" });
    await waitForAlertCached(stack, ns, "all");
    await createGitRepository(stack, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });

    const req = await eventually(() => sink.at("/generic").find((r) => r.json?.reason === "NewArtifact" && r.json.involvedObject.namespace === ns),
      { timeoutMs: 30000, what: "the NewArtifact event at the webhook" });
    const ev = req.json;
    expect(ev.involvedObject).to.include({ kind: "GitRepository", name: "app", namespace: ns, apiVersion: GitRepositoryNames.apiVersion });
    expect(ev.severity).to.equal("info");
    expect(ev.reportingController).to.equal("source-controller");
    expect(ev.message).to.match(/^stored artifact for commit /);
    // Flux strips the emitter's group prefix and adds the Alert's eventMetadata and summary.
    expect(ev.metadata).to.deep.equal({ revision: `main@sha1:${git.initialCommit}`, env: "test", summary: "cluster one" });
    expect(ev.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(req.headers["content-type"]).to.equal("application/json");
    expect(req.headers["gotk-component"]).to.equal("source-controller");
    expect(req.headers["x-signature"]).to.equal(undefined);
  });

  it("sends only error events through an Alert with eventSeverity error", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "all", { type: "generic", address: sink.url(`/sev-all-${ns}`) });
    await createProvider(stack, ns, "errors", { type: "generic", address: sink.url(`/sev-errors-${ns}`) });
    await createAlert(stack, ns, "info", { providerRef: { name: "all" }, eventSources: gitSource() });
    await createAlert(stack, ns, "error", { providerRef: { name: "errors" }, eventSeverity: "error", eventSources: gitSource() });
    await waitForAlertCached(stack, ns, "info");
    await waitForAlertCached(stack, ns, "error");
    await createGitRepository(stack, ns, "ok", { url: git.http!.url(), ref: { branch: "main" } });
    await createGitRepository(stack, ns, "broken", { url: git.http!.url("missing.git"), ref: { branch: "main" } });

    const all = () => sink.at(`/sev-all-${ns}`).map((r) => r.json);
    const errors = () => sink.at(`/sev-errors-${ns}`).map((r) => r.json);
    await eventually(() => all().some((e) => e.involvedObject.name === "ok" && e.severity === "info")
      && all().some((e) => e.involvedObject.name === "broken" && e.severity === "error"), { timeoutMs: 30000, what: "info and error events at the info Alert's webhook" });
    const failure = await eventually(() => errors().find((e) => e.involvedObject.name === "broken"), { timeoutMs: 30000, what: "the error event at the error Alert's webhook" });
    expect(failure.severity).to.equal("error");
    expect(failure.message).to.contain("missing.git");
    // Matching happens before any send starts, so the info event was already turned away.
    expect(errors().filter((e) => e.severity !== "error")).to.deep.equal([]);
  });

  it("drops messages matching the exclusionList and keeps only messages matching the inclusionList", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "p", { type: "generic", address: sink.url(`/lists-${ns}`) });
    await createProvider(stack, ns, "excl", { type: "generic", address: sink.url(`/excl-${ns}`) });
    await createProvider(stack, ns, "incl", { type: "generic", address: sink.url(`/incl-${ns}`) });
    await createAlert(stack, ns, "plain", { providerRef: { name: "p" }, eventSources: gitSource("repo") });
    await createAlert(stack, ns, "excluding", { providerRef: { name: "excl" }, eventSources: gitSource("repo"), exclusionList: ["^stored artifact"] });
    await createAlert(stack, ns, "including", { providerRef: { name: "incl" }, eventSources: gitSource("repo"), inclusionList: ["(?i)^FETCH failed"] });
    for (const a of ["plain", "excluding", "including"]) await waitForAlertCached(stack, ns, a);

    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo", { message: "stored artifact for commit 'one'" }))).to.equal(202);
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo", { message: "fetch failed: no such branch", severity: "error", reason: "GitOperationFailed" }))).to.equal(202);
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "other", { message: "fetch failed: elsewhere" }))).to.equal(202);

    const messages = (p: string) => sink.at(p).map((r) => r.json.message as string).sort();
    await eventually(() => messages(`/lists-${ns}`).length === 2 && messages(`/excl-${ns}`).length === 1 && messages(`/incl-${ns}`).length === 1,
      { what: "the three webhooks to receive their events" });
    expect(messages(`/lists-${ns}`)).to.deep.equal(["fetch failed: no such branch", "stored artifact for commit 'one'"]);
    expect(messages(`/excl-${ns}`)).to.deep.equal(["fetch failed: no such branch"]);
    expect(messages(`/incl-${ns}`)).to.deep.equal(["fetch failed: no such branch"]);
  });

  it("signs generic-hmac requests with the Secret's token (X-Signature: sha256=...), with the Secret's address and headers", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "hmac", { token: "s3cr3t-t0ken", address: sink.url(`/hmac-${ns}`), headers: "X-Team: platform\nX-Env: ci\n" });
    await createProvider(stack, ns, "signed", { type: "generic-hmac", address: "http://overridden.invalid/", secretRef: { name: "hmac" } });
    await createAlert(stack, ns, "a", { providerRef: { name: "signed" }, eventSources: gitSource() });
    await waitForAlertCached(stack, ns, "a");
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "repo", { metadata: { "source.toolkit.fluxcd.io/revision": "main@sha1:abc" } }))).to.equal(202);

    const req = await eventually(() => sink.at(`/hmac-${ns}`)[0], { what: "the signed request" });
    const want = `sha256=${createHmac("sha256", "s3cr3t-t0ken").update(req.body).digest("hex")}`;
    expect(req.headers["x-signature"]).to.equal(want);
    expect(req.headers["x-team"]).to.equal("platform");
    expect(req.headers["x-env"]).to.equal("ci");
    expect(req.json.metadata).to.deep.equal({ revision: "main@sha1:abc" });
  });

  it("formats Slack incoming-webhook messages (channel, username, colour by severity, metadata as fields)", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "slack", { type: "slack", address: sink.url(`/slack-${ns}`), channel: "#ops", username: "flux" });
    await createAlert(stack, ns, "a", { providerRef: { name: "slack" }, eventSources: gitSource() });
    await waitForAlertCached(stack, ns, "a");
    const ev = gitRepositoryEvent(ns, "repo", { severity: "error", reason: "GitOperationFailed", message: "failed to checkout",
      metadata: { "source.toolkit.fluxcd.io/revision": "main@sha1:abc" } });
    expect(await postEvent(stack.eventsUrl, ev)).to.equal(202);
    const req = await eventually(() => sink.at(`/slack-${ns}`)[0], { what: "the Slack message" });
    expect(req.json).to.deep.equal({
      channel: "#ops", username: "flux",
      attachments: [{ color: "danger", author_name: `GitRepository/repo.${ns}`, text: "failed to checkout", mrkdwn_in: ["text"],
        fields: [{ title: "revision", value: "main@sha1:abc", short: false }] }],
    });
  });

  it("answers 429 to a duplicate event within the rate-limit interval, and 202 to a new revision", async function () {
    const ns = await newNamespace();
    const ev = gitRepositoryEvent(ns, "dup", { metadata: { "source.toolkit.fluxcd.io/revision": "main@sha1:1111" } });
    expect(await postEvent(stack.eventsUrl, ev)).to.equal(202);
    expect(await postEvent(stack.eventsUrl, ev)).to.equal(429);
    expect(await postEvent(stack.eventsUrl, { ...ev, metadata: { "source.toolkit.fluxcd.io/revision": "main@sha1:2222" } })).to.equal(202);
    expect(await postEvent(stack.eventsUrl, { ...ev, message: "another message" })).to.equal(202);
  });

  it("selects sources by labels with name '*' and matchLabels, and skips suspended Alerts and Providers", async function () {
    const ns = await newNamespace();
    const gitRepos = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
    // Not labelled for the test controllers: these objects only carry labels for matching.
    for (const [name, team] of [["team-a", "a"], ["team-b", "b"]]) {
      await stack.client.create(gitRepos, { apiVersion: GitRepositoryNames.apiVersion, kind: GitRepositoryNames.kind,
        metadata: { name, namespace: ns, labels: { team } }, spec: { url: "https://example.com/x.git", interval: "1h", suspend: true } } as never);
    }
    await createProvider(stack, ns, "p", { type: "generic", address: sink.url(`/labels-${ns}`) });
    await createProvider(stack, ns, "off", { type: "generic", address: sink.url(`/suspended-${ns}`), suspend: true });
    await createAlert(stack, ns, "team-a", { providerRef: { name: "p" }, eventSources: [{ kind: "GitRepository", name: "*", matchLabels: { team: "a" } }] });
    await createAlert(stack, ns, "suspended", { providerRef: { name: "p" }, eventSources: gitSource(), suspend: true });
    await createAlert(stack, ns, "to-suspended-provider", { providerRef: { name: "off" }, eventSources: gitSource() });
    for (const a of ["team-a", "suspended", "to-suspended-provider"]) await waitForAlertCached(stack, ns, a);

    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "team-b", { message: "from b" }))).to.equal(202);
    expect(await postEvent(stack.eventsUrl, gitRepositoryEvent(ns, "team-a", { message: "from a" }))).to.equal(202);
    await eventually(() => sink.at(`/labels-${ns}`).length > 0, { what: "team a's event" });
    expect(sink.at(`/labels-${ns}`).map((r) => r.json.message)).to.deep.equal(["from a"]);
    expect(sink.at(`/suspended-${ns}`)).to.deep.equal([]);
  });
});
