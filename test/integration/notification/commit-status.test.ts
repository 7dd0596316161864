// Commit status Providers: Kustomization events set the status of the revision's commit, with
// the ID Flux derives (<kind>/<name>/<Provider UID prefix>), the state mapped per service, and
// nothing sent for events that are not commit status updates or carry no revision.
import { expect } from "chai";
import type { Provider } from "../../../controllers/api/notification/v1beta3/provider";
import { eventually, newNamespace } from "../../support/cluster";
import { Recorder, commitStatusRules } from "./recorders";
import { NotificationStack, createAlert, createProvider, createSecret, postEvent, providerWithAlert, waitForAlertCached, waitForEvent, withStackAndRecorder } from "./support";

const sha = "0123456789abcdef0123456789abcdef01234567";

/** A kustomize-controller event about Kustomization `name`. */
function ksEvent(ns: string, over: Record<string, unknown> = {}, meta: Record<string, string> = {}): Record<string, unknown> {
  return {
    involvedObject: { kind: "Kustomization", namespace: ns, name: "apps", apiVersion: "kustomize.toolkit.fluxcd.io/v1" },
    severity: "info", timestamp: "2026-01-02T03:04:05Z", reason: "ReconciliationSucceeded",
    message: "Reconciliation finished in 1.2s, next run in 10m0s", reportingController: "kustomize-controller",
    metadata: { "kustomize.toolkit.fluxcd.io/revision": `main@sha1:${sha}`, "kustomize.toolkit.fluxcd.io/commit_status": "update", ...meta },
    ...over,
  };
}

describe("Provider: commit statuses on GitHub, GitLab, Gitea, Bitbucket, Bitbucket Server and Azure DevOps", function () {
  let stack: NotificationStack;
  let rec: Recorder;
  withStackAndRecorder(commitStatusRules, (s, r) => { stack = s; rec = r; });

  async function setup(ns: string, spec: Provider["spec"], secret: Record<string, string>): Promise<{ id: string }> {
    const p = await providerWithAlert(stack, ns, { provider: "git", secretName: "git", spec, secret, alertSpec: { eventSources: [{ kind: "Kustomization", name: "*" }] } });
    return { id: `kustomization/apps/${p.metadata.uid!.split("-")[0]}` };
  }
  const post = async (ev: Record<string, unknown>) => expect(await postEvent(stack.eventsUrl, ev)).to.equal(202);
  const at = (p: string) => eventually(() => rec.under(p)[0], { timeoutMs: 20000, what: `a request at ${p}` });

  it("github: success for a commit status update, with the Flux status ID as context and a bearer token", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "github", address: rec.url(`/org/${ns}`) }, { token: "ghp_x" });
    await post(ksEvent(ns));
    const r = await at(`/api/v3/repos/org/${ns}/statuses/${sha}`);
    expect(r.method).to.equal("POST");
    expect(r.headers.authorization).to.equal("Bearer ghp_x");
    expect(r.headers.accept).to.equal("application/vnd.github+json");
    expect(r.json).to.deep.equal({ state: "success", context: id, description: "Reconciliation finished in 1.2s, next run in 10m0s" });
    expect(id).to.match(/^kustomization\/apps\/[0-9a-f]{8}$/);
  });

  it("github: failure for an error event, pending for Progressing; nothing for plain info events or events without a revision", async function () {
    const ns = await newNamespace();
    await setup(ns, { type: "github", address: rec.url(`/org/${ns}`) }, { token: "ghp_x" });
    const path = `/api/v3/repos/org/${ns}/statuses/`;
    // Not a commit status update, not an error: dropped, as Flux does.
    await post(ksEvent(ns, { message: "applied 3 objects" }, { "kustomize.toolkit.fluxcd.io/commit_status": "" }));
    // A commit status update without a revision: no commit to mark.
    await post({ ...ksEvent(ns, { message: "no revision" }), metadata: { "kustomize.toolkit.fluxcd.io/commit_status": "update" } });
    await post(ksEvent(ns, { severity: "error", reason: "BuildFailed", message: "kustomize build failed" }, { "kustomize.toolkit.fluxcd.io/commit_status": "" }));
    await post(ksEvent(ns, { reason: "Progressing", message: "Reconciliation in progress" }));
    await eventually(() => rec.under(path).length >= 2, { timeoutMs: 20000, what: "two statuses" });
    expect(rec.under(path).map((r) => [r.json.state, r.json.description])).to.deep.equal([
      ["failure", "kustomize build failed"], ["pending", "Reconciliation in progress"]]);
  });

  it("commitStatusExpr: the status ID is the CEL expression over event, provider and alert", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "git", { token: "ghp_x" });
    const expr = "event.involvedObject.kind + '/' + event.involvedObject.name + '/' + event.metadata.cluster + '/' + alert.metadata.name + '/' + provider.metadata.uid.split('-').first().value()";
    const p = await createProvider(stack, ns, "git", { type: "github", address: rec.url(`/org/${ns}`), secretRef: { name: "git" }, commitStatusExpr: expr });
    await createAlert(stack, ns, "a", { providerRef: { name: "git" }, eventSources: [{ kind: "Kustomization", name: "*" }], eventMetadata: { cluster: "prod-eu" } });
    await waitForAlertCached(stack, ns, "a");
    await post(ksEvent(ns));
    const r = await at(`/api/v3/repos/org/${ns}/statuses/${sha}`);
    expect(r.json).to.deep.equal({ state: "success", context: `Kustomization/apps/prod-eu/a/${p.metadata.uid!.split("-")[0]}`, description: "Reconciliation finished in 1.2s, next run in 10m0s" });
  });

  it("commitStatusExpr: a syntax error is InvalidConfig on the Provider; an evaluation error is a Warning Event on the Alert", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "git", { token: "ghp_x" });
    await createProvider(stack, ns, "bad", { type: "github", address: rec.url(`/org/${ns}`), secretRef: { name: "git" }, commitStatusExpr: "event.involvedObject.kind +" });
    await waitForEvent(stack.client, ns, "Provider", "bad", /^invalid spec\.commitStatusExpr 'event\.involvedObject\.kind \+': .+ \(a CEL expression over event, provider and alert that evaluates to a string/, "InvalidConfig");
    await createProvider(stack, ns, "undeclared", { type: "github", address: rec.url(`/org/${ns}`), secretRef: { name: "git" }, commitStatusExpr: "cluster.name" });
    await waitForEvent(stack.client, ns, "Provider", "undeclared", /undeclared reference to 'cluster' \(available: event, provider, alert\)/, "InvalidConfig");
    await createProvider(stack, ns, "git", { type: "github", address: rec.url(`/org/${ns}`), secretRef: { name: "git" }, commitStatusExpr: "event.metadata.cluster" });
    await createAlert(stack, ns, "a", { providerRef: { name: "git" }, eventSources: [{ kind: "Kustomization", name: "*" }] });
    await waitForAlertCached(stack, ns, "a");
    await post(ksEvent(ns));
    await waitForEvent(stack.client, ns, "Alert", "a", /failed to evaluate spec\.commitStatusExpr of provider '.+\/git': no such key: cluster/, "NotificationDispatchFailed");
    expect(rec.under(`/api/v3/repos/org/${ns}/`)).to.have.length(0);
  });

  it("gitlab: POST /api/v4/projects/<encoded path>/statuses/<sha> with PRIVATE-TOKEN and name", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "gitlab", address: rec.url(`/group/sub/${ns}`) }, { token: "glpat" });
    await post(ksEvent(ns, { severity: "error", reason: "HealthCheckFailed", message: "health check failed" }));
    const r = await at(`/api/v4/projects/group%2Fsub%2F${ns}/statuses/${sha}`);
    expect(r.headers["private-token"]).to.equal("glpat");
    expect(r.json).to.deep.equal({ state: "failed", name: id, description: "health check failed" });
  });

  it("gitea: POST /api/v1/repos/<o>/<r>/statuses/<sha> with 'token' auth", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "gitea", address: rec.url(`/org/${ns}.git`) }, { token: "gt" });
    await post(ksEvent(ns));
    const r = await at(`/api/v1/repos/org/${ns}/statuses/${sha}`);
    expect(r.headers.authorization).to.equal("token gt");
    expect(r.json).to.deep.equal({ state: "success", context: id, description: "Reconciliation finished in 1.2s, next run in 10m0s" });
  });

  it("bitbucket: POST /2.0/repositories/<o>/<r>/commit/<sha>/statuses/build with key (SHA-1 of the ID), url, basic auth", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "bitbucket", address: rec.url(`/team/${ns}`) }, { token: "user:app-pass" });
    await post(ksEvent(ns, { reason: "Progressing", message: "in progress" }));
    const r = await at(`/2.0/repositories/team/${ns}/commit/${sha}/statuses/build`);
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from("user:app-pass").toString("base64")}`);
    const { createHash } = await import("node:crypto");
    expect(r.json).to.deep.equal({ state: "INPROGRESS", key: createHash("sha1").update(id).digest("hex"), name: id, url: rec.url(`/team/${ns}`), description: "in progress" });
  });

  it("bitbucketserver: POST /rest/api/latest/projects/<P>/repos/<r>/commits/<sha>/builds, from the HTTPS clone URL, with basic auth", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "bitbucketserver", address: rec.url(`/scm/PROJ/${ns}.git`), username: "bot" }, { password: "pw" });
    await post(ksEvent(ns));
    const r = await at(`/rest/api/latest/projects/PROJ/repos/${ns}/commits/${sha}/builds`);
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from("bot:pw").toString("base64")}`);
    expect(r.json).to.include({ state: "SUCCESSFUL", name: id, url: rec.url(`/scm/PROJ/${ns}.git`) });
    expect(r.json.key).to.match(/^[0-9a-f]{40}$/);
  });

  it("azuredevops: POST /<org>/<project>/_apis/git/repositories/<repo>/commits/<sha>/statuses with a PAT", async function () {
    const ns = await newNamespace();
    const { id } = await setup(ns, { type: "azuredevops", address: rec.url(`/org/proj/_git/${ns}`) }, { token: "pat" });
    await post(ksEvent(ns));
    const r = await at(`/org/proj/_apis/git/repositories/${ns}/commits/${sha}/statuses?api-version=6.0`);
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from(":pat").toString("base64")}`);
    const [genre, ...name] = id.split("/");
    expect(r.json).to.deep.equal({ state: "succeeded", description: "Reconciliation finished in 1.2s, next run in 10m0s", context: { genre: `fluxcd/${genre}`, name: name.join("/") } });
  });

  it("sends commit status updates to generic webhooks but not to chat providers", async function () {
    const ns = await newNamespace();
    await createProvider(stack, ns, "hook", { type: "generic", address: rec.url(`/generic-${ns}`) });
    await createProvider(stack, ns, "chat", { type: "slack", address: rec.url(`/slack-${ns}`) });
    for (const p of ["hook", "chat"]) await createAlert(stack, ns, p, { providerRef: { name: p }, eventSources: [{ kind: "Kustomization", name: "*" }] });
    for (const p of ["hook", "chat"]) await waitForAlertCached(stack, ns, p);
    await post(ksEvent(ns));
    await post(ksEvent(ns, { message: "applied" }, { "kustomize.toolkit.fluxcd.io/commit_status": "" }));
    await eventually(() => rec.under(`/generic-${ns}`).length === 2 && rec.under(`/slack-${ns}`).length === 1, { timeoutMs: 20000, what: "2 generic, 1 slack" });
    expect(rec.under(`/slack-${ns}`)[0].json.attachments[0].text).to.equal("applied");
  });

  it("reports a missing token on the Provider, and a 401 from the service with its answer and what to fix", async function () {
    const ns = await newNamespace();
    await setup(ns, { type: "gitea", address: rec.url(`/org/${ns}`) }, { headers: "X: y\n" });
    await waitForEvent(stack.client, ns, "Provider", "git", /^a gitea provider needs a 'token' key in the secret '.+\/git' in spec\.secretRef/, "InvalidConfig");
    const ns2 = await newNamespace();
    await setup(ns2, { type: "github", address: rec.url(`/org/${ns2}`) }, { token: "bad" });
    await post(ksEvent(ns2));
    await waitForEvent(stack.client, ns2, "Alert", "a", new RegExp(`^failed to send notification for Kustomization/${ns2}/apps: POST http://127\\.0\\.0\\.1:\\d+/\\.\\.\\. failed with status code 401: \\{"message":"Bad credentials"\\} \\(check the credentials in the secret '${ns2}/git'\\)$`), "NotificationDispatchFailed");
    // A 4xx is not retried.
    expect(rec.under(`/api/v3/repos/org/${ns2}/`)).to.have.length(1);
  });
});
