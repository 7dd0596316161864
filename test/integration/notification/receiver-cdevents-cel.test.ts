// Receivers: the cdevents type (CloudEvents-wrapped CDEvents, filtered by spec.events) and CEL
// resource filters (spec.resourceFilter and resources[].filter) over `res` and `req`.
import { expect } from "chai";
import { GitRepositoryNames } from "../../../controllers/api/source/v1/git-repository";
import { newNamespace } from "../../support/cluster";
import { NotificationStack, createReceiver, createSecret, startNotificationStack, waitForReceiver } from "./support";

const gitRepos = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
const requested = "reconcile.fluxcd.io/requestedAt";

describe("Receiver: cdevents and CEL resource filters", function () {
  let stack: NotificationStack;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
  });
  after(async () => { await stack?.stop(); });

  /** Suspended GitRepositories (never fetched) with labels and annotations for filters. */
  async function repos(ns: string, items: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }[]) {
    for (const i of items) {
      await stack.client.create(gitRepos, { apiVersion: GitRepositoryNames.apiVersion, kind: GitRepositoryNames.kind,
        metadata: { name: i.name, namespace: ns, labels: i.labels, annotations: i.annotations }, spec: { url: "https://example.com/x.git", interval: "1h", suspend: true } } as never);
    }
  }
  const annotated = async (ns: string, name: string) => !!(await stack.client.get<{ metadata: { annotations?: Record<string, string> } }>(gitRepos, { namespace: ns, name }))?.metadata.annotations?.[requested];
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${stack.receiverUrl}${path}`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } })
      .then(async (r) => ({ status: r.status, text: await r.text() }));

  const cdevent = (type: string) => ({
    context: { version: "0.4.1", id: "e1", source: "/ci/pipeline", type, timestamp: "2026-01-02T03:04:05Z" },
    subject: { id: "change-1", source: "/scm/repo", content: { repository: { id: "org/app" } } },
  });
  const ce = (type: string) => ({ "Ce-Type": type, "Ce-Id": "e1", "Ce-Source": "/ci/pipeline", "Ce-Specversion": "1.0" });

  it("cdevents: a CDEvent whose type is in spec.events annotates the resources; other types and non-CDEvents are refused", async function () {
    const ns = await newNamespace();
    await repos(ns, [{ name: "app" }]);
    await createSecret(stack.client, ns, "tok", { token: "t" });
    await createReceiver(stack, ns, "cd", { type: "cdevents", events: ["dev.cdevents.change.merged"], secretRef: { name: "tok" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const path = (await waitForReceiver(stack.client, ns, "cd", { ready: "True" })).status!.webhookPath!;
    const other = await post(path, cdevent("dev.cdevents.change.created.0.2.0"), ce("dev.cdevents.change.created.0.2.0"));
    expect(other.status).to.equal(400);
    expect(other.text).to.contain("the CDEvent event 'dev.cdevents.change.created' is not authorised");
    const notCe = await post(path, cdevent("dev.cdevents.change.merged.0.2.0"));
    expect(notCe.status).to.equal(400);
    expect(notCe.text).to.contain("the Ce-Type header is missing");
    const bad = await post(path, { context: { type: "x" } }, ce("dev.cdevents.change.merged.0.2.0"));
    expect(bad.status).to.equal(400);
    expect(await annotated(ns, "app")).to.equal(false);
    const ok = await post(path, cdevent("dev.cdevents.change.merged.0.2.0"), ce("dev.cdevents.change.merged.0.2.0"));
    expect(ok.status, ok.text).to.equal(200);
    expect(await annotated(ns, "app")).to.equal(true);
  });

  it("resourceFilter and resources[].filter: only the objects both accept are annotated", async function () {
    const ns = await newNamespace();
    await repos(ns, [
      { name: "hello-world", labels: { registry: "gar", environment: "production" }, annotations: { "update-image": "hello-world" } },
      { name: "hello-staging", labels: { registry: "gar", environment: "staging" }, annotations: { "update-image": "hello-world" } },
      { name: "other", labels: { registry: "gar", environment: "production" } },
    ]);
    await createSecret(stack.client, ns, "tok", { token: "t" });
    await createReceiver(stack, ns, "gar", {
      type: "generic", secretRef: { name: "tok" },
      resourceFilter: "has(res.metadata.annotations) && 'update-image' in res.metadata.annotations && req.tag.split('/').last().value().split(':').first().value() == res.metadata.annotations['update-image']",
      resources: [{ kind: "GitRepository", name: "*", matchLabels: { registry: "gar" }, filter: "res.metadata.labels['environment'] == 'production'" }],
    });
    const path = (await waitForReceiver(stack.client, ns, "gar", { ready: "True" })).status!.webhookPath!;
    const res = await post(path, { action: "INSERT", tag: "us-east1-docker.pkg.dev/p/r/hello-world:1.1" });
    expect(res.status, res.text).to.equal(200);
    expect(await annotated(ns, "hello-world")).to.equal(true);
    expect(await annotated(ns, "hello-staging")).to.equal(false);
    expect(await annotated(ns, "other")).to.equal(false);
    // A request the expression cannot evaluate on (no `tag`) is a 400 naming the problem.
    const missing = await post(path, { action: "DELETE" });
    expect(missing.status).to.equal(400);
    expect(missing.text).to.contain("no such key: tag");
  });

  it("stalls a Receiver whose CEL expression does not compile, naming the field", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "tok", { token: "t" });
    await createReceiver(stack, ns, "bad", { type: "generic", secretRef: { name: "tok" }, resources: [{ kind: "GitRepository", name: "app" }], resourceFilter: "claims.repo == 'x'" });
    const r = await waitForReceiver(stack.client, ns, "bad", { ready: "False", reason: "ValidationFailed" });
    expect(r.status!.conditions!.find((c) => c.type === "Ready")!.message).to.match(/spec\.resourceFilter: invalid CEL expression 'claims\.repo == 'x'': undeclared reference to 'claims'/);
  });
});
