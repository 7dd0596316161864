import { expect } from "chai";
import { createHash, createHmac } from "node:crypto";
import type { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { newNamespace } from "../../support/cluster";
import { GitServers, startGitServers } from "../../support/git-server";
import { createGitRepository, gitRepos, waitFor } from "../source/support";
import { NotificationStack, createReceiver, createSecret, startNotificationStack, waitForEvent, waitForReceiver } from "./support";

/** Flux's webhook path, computed independently of the controller. */
const fluxPath = (token: string, name: string, ns: string) => `/hook/${createHash("sha256").update(token + name + ns).digest("hex")}`;

const pushPayload = (sha: string) => JSON.stringify({ ref: "refs/heads/main", after: sha, repository: { full_name: "org/app" } });

describe("Receiver: webhooks that trigger reconciles", function () {
  let stack: NotificationStack;
  let git: GitServers;
  before(async function () {
    this.timeout(120000);
    stack = await startNotificationStack();
    git = await startGitServers({ http: {}, files: { "app.yaml": "v: 1\n" } });
  });
  after(async () => { await stack?.stop(); await git?.close(); });

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${stack.receiverUrl}${path}`, { method: "POST", body, headers: { "content-type": "application/json", ...headers } })
      .then(async (r) => ({ status: r.status, text: await r.text() }));

  it("is Ready with status.webhookPath = /hook/sha256(token+name+namespace), as Flux computes it", async function () {
    const ns = await newNamespace();
    await createSecret(stack.client, ns, "token", { token: "a-very-secret-token" });
    await createReceiver(stack, ns, "hook", { type: "generic", secretRef: { name: "token" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const r = await waitForReceiver(stack.client, ns, "hook", { ready: "True" });
    const path = fluxPath("a-very-secret-token", "hook", ns);
    expect(r.status!.webhookPath).to.equal(path);
    expect(r.status!.conditions!.find((c) => c.type === "Ready")).to.include({ reason: "Succeeded", message: `Receiver initialized for path: ${path}` });
    expect(r.status!.conditions!.some((c) => c.type === "Reconciling")).to.equal(false);
    expect(r.status!.observedGeneration).to.equal(r.metadata.generation);
    expect(r.spec.interval, "the CRD defaults the interval").to.equal("10m");
    expect(r.metadata.finalizers).to.include("finalizers.fluxcd.io");
    await waitForEvent(stack.client, ns, "Receiver", "hook", /^Reconciliation finished, next run in 10m0s$/, "Succeeded");
  });

  it("on a signed GitHub push, annotates the GitRepository, which fetches the new commit at once", async function () {
    const ns = await newNamespace();
    await createGitRepository(stack, ns, "app", { url: git.http!.url(), ref: { branch: "main" }, interval: "1h" });
    await waitFor(stack.client, ns, "app", { ready: "True" });
    await createSecret(stack.client, ns, "github", { token: "gh-hook-secret" });
    await createReceiver(stack, ns, "github", { type: "github", events: ["ping", "push"], secretRef: { name: "github" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const receiver = await waitForReceiver(stack.client, ns, "github", { ready: "True" });
    expect(receiver.status!.webhookPath).to.equal(fluxPath("gh-hook-secret", "github", ns));

    const sha = await git.fixture.commitFiles({ "app.yaml": "v: 2\n" }, "bump app");
    const body = pushPayload(sha);
    const signature = `sha256=${createHmac("sha256", "gh-hook-secret").update(body).digest("hex")}`;
    const res = await post(receiver.status!.webhookPath!, body, { "X-GitHub-Event": "push", "X-Hub-Signature-256": signature, "X-GitHub-Delivery": "1" });
    expect(res.status, res.text).to.equal(200);

    const repo = await waitFor(stack.client, ns, "app", { ready: "True", revision: `main@sha1:${sha}` }, 20000);
    const requested = repo.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"];
    expect(requested).to.match(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \+0000 UTC$/);
    expect(repo.status!.lastHandledReconcileAt).to.equal(requested);
  });

  it("refuses a bad signature with 401, an unlisted event with 400, and annotates nothing", async function () {
    const ns = await newNamespace();
    await createGitRepository(stack, ns, "app", { url: git.http!.url(), ref: { branch: "main" }, interval: "1h" });
    await createSecret(stack.client, ns, "github", { token: "right-token" });
    await createReceiver(stack, ns, "github", { type: "github", events: ["push"], secretRef: { name: "github" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const path = (await waitForReceiver(stack.client, ns, "github", { ready: "True" })).status!.webhookPath!;
    const body = pushPayload("0".repeat(40));
    const sign = (key: string) => `sha256=${createHmac("sha256", key).update(body).digest("hex")}`;

    const forged = await post(path, body, { "X-GitHub-Event": "push", "X-Hub-Signature-256": sign("wrong-token") });
    expect(forged.status).to.equal(401);
    expect(forged.text).to.contain("signature");
    const unsigned = await post(path, body, { "X-GitHub-Event": "push" });
    expect(unsigned.status).to.equal(401);
    const tampered = await post(path, body.replace("org/app", "org/evil"), { "X-GitHub-Event": "push", "X-Hub-Signature-256": sign("right-token") });
    expect(tampered.status).to.equal(401);
    const unlisted = await post(path, body, { "X-GitHub-Event": "issues", "X-Hub-Signature-256": sign("right-token") });
    expect(unlisted.status).to.equal(400);
    expect(unlisted.text).to.contain("the GitHub event 'issues' is not authorised");

    const repo = await stack.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
    expect(repo!.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).to.equal(undefined);
    expect((await post("/hook/0123456789abcdef", body, {})).status, "unknown path").to.equal(404);
  });

  it("validates generic-hmac (X-Signature with sha1, sha256 or sha512) and gitlab (X-Gitlab-Token) requests", async function () {
    const ns = await newNamespace();
    await createGitRepository(stack, ns, "app", { url: git.http!.url(), ref: { branch: "main" }, interval: "1h", suspend: true });
    await createSecret(stack.client, ns, "tok", { token: "shared" });
    const resources = [{ kind: "GitRepository" as const, name: "app" }];
    await createReceiver(stack, ns, "hmac", { type: "generic-hmac", secretRef: { name: "tok" }, resources });
    await createReceiver(stack, ns, "gitlab", { type: "gitlab", events: ["Push Hook"], secretRef: { name: "tok" }, resources });
    const hmacPath = (await waitForReceiver(stack.client, ns, "hmac", { ready: "True" })).status!.webhookPath!;
    const gitlabPath = (await waitForReceiver(stack.client, ns, "gitlab", { ready: "True" })).status!.webhookPath!;
    const body = "{\"any\":\"payload\"}";
    for (const algo of ["sha1", "sha256", "sha512"]) {
      const sig = `${algo}=${createHmac(algo, "shared").update(body).digest("hex")}`;
      expect((await post(hmacPath, body, { "X-Signature": sig })).status, algo).to.equal(200);
    }
    expect((await post(hmacPath, body, { "X-Signature": "sha256=00" })).status).to.equal(401);
    expect((await post(gitlabPath, body, { "X-Gitlab-Token": "shared", "X-Gitlab-Event": "Push Hook" })).status).to.equal(200);
    expect((await post(gitlabPath, body, { "X-Gitlab-Token": "nope", "X-Gitlab-Event": "Push Hook" })).status).to.equal(401);
    const repo = await stack.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
    expect(repo!.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]).to.be.a("string");
  });
});
