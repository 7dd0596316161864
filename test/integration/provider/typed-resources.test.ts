// Typed resources (GitRepository, ...) through the real engine and the plugin, reconciled by our
// source-controller running locally: Ready waiting with status outputs, the controller's own
// message on failure, schema validation at preview, and delete after the finalizer.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Alert, GitRepository, Install, NotificationProvider } from "../../../provider";
import { getCluster, newNamespace } from "../../support/cluster";
import * as k8s from "@kubernetes/client-node";
import * as kubernetes from "@pulumi/kubernetes";
import { randomSuffix } from "../../support/cluster";
import { startControllers, type RunningControllers } from "./controllers";
import { getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";

describe("typed GitRepository resource", function () {
  this.timeout(300_000);
  let kubeconfig: string;
  let controllers: RunningControllers | undefined;
  after(async () => controllers?.stop());

  before(async () => {
    kubeconfig = await kubeconfigText();
    // CRDs (and controllers' Deployments) via the Install component, then our controllers as processes.
    const install = await inlineStack("typed-install", async () => {
      const i = new Install("flux", { kubeconfig, components: ["source-controller", "kustomize-controller"], namespace: "flux-system" });
      return { ns: i.namespace };
    });
    await install.up();
    controllers = await startControllers();
  });

  async function credentialsSecret(ns: string, password: string): Promise<void> {
    const { kc } = await getCluster();
    await kc.makeApiClient(k8s.CoreV1Api).createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "git-auth" }, stringData: { username: gitRepoUser.username, password } },
    });
  }

  it("waits for Ready and exposes the artifact revision and status", async () => {
    const git = await gitRepo();
    const ns = await newNamespace("typed");
    await credentialsSecret(ns, gitRepoUser.password);
    const stack = await inlineStack("typed-gitrepo", async () => {
      const r = new GitRepository("app", {
        metadata: { namespace: ns },
        spec: { url: git.urls.http!, interval: "1m", ref: { branch: "main" }, secretRef: { name: "git-auth" } },
        kubeconfig: pulumi.secret(kubeconfig),
        timeout: "60s",
      });
      return { ready: r.ready, revision: r.revision, status: r.status };
    });
    const res = await stack.up();
    expect(res.outputs.ready).to.equal(true);
    expect(res.outputs.revision).to.equal(`main@sha1:${git.initialCommit}`);
    const status = res.outputs.status as { artifact?: { digest?: string } };
    expect(status.artifact?.digest).to.match(/^sha256:/);
    const again = await stack.up();
    expect(changed(again.changes)).to.equal(0);
    await stack.destroy();
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", "app", ns)).to.equal(undefined);
  });

  it("takes the cluster connection from a @pulumi/kubernetes Provider, with no kubeconfig of its own", async () => {
    const git = await gitRepo();
    const nsName = `typed-k8s-${randomSuffix()}`;
    const stack = await inlineStack("typed-k8s-provider", async () => {
      const cluster = new kubernetes.Provider("cluster", { kubeconfig: pulumi.secret(kubeconfig) });
      const ns = new kubernetes.core.v1.Namespace("ns", { metadata: { name: nsName } }, { provider: cluster });
      const auth = new kubernetes.core.v1.Secret("auth", {
        metadata: { name: "git-auth", namespace: ns.metadata.name },
        stringData: { username: gitRepoUser.username, password: gitRepoUser.password },
      }, { provider: cluster });
      const r = new GitRepository("app", {
        metadata: { namespace: ns.metadata.name },
        spec: { url: git.urls.http!, interval: "1m", ref: { branch: "main" }, secretRef: { name: auth.metadata.name } },
        kubernetesProvider: cluster,
        timeout: "60s",
      });
      return { ready: r.ready, revision: r.revision };
    }, { env: { KUBECONFIG: "/nonexistent/kubeconfig" } }); // no ambient cluster to fall back on
    const res = await stack.up();
    expect(res.outputs.ready).to.equal(true);
    expect(res.outputs.revision).to.equal(`main@sha1:${git.initialCommit}`);
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", "app", nsName)).to.not.equal(undefined);
    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", "app", nsName)).to.equal(undefined);
  });

  it("fails with the controller's own message when the credentials are wrong", async () => {
    const git = await gitRepo();
    const ns = await newNamespace("typed");
    await credentialsSecret(ns, "wrong-password");
    const stack = await inlineStack("typed-gitrepo-bad", async () => {
      const r = new GitRepository("app", {
        metadata: { namespace: ns },
        spec: { url: git.urls.http!, interval: "1m", ref: { branch: "main" }, secretRef: { name: "git-auth" } },
        kubeconfig: pulumi.secret(kubeconfig),
        timeout: "15s",
      });
      return { ready: r.ready };
    });
    const err = await stack.up().then(() => undefined, (e: Error) => e);
    expect(err, "up should fail").to.be.instanceOf(Error);
    if (process.env.SHOW_ERRORS) console.log(err!.message);
    expect(err!.message).to.match(/GitRepository .*app is not Ready after \d+s: Ready=False/);
    expect(err!.message).to.match(/auth|401|credentials/i);
  });

  it("applies notification Provider and Alert (static objects: no Ready to wait for)", async () => {
    const ns = await newNamespace("typed");
    const stack = await inlineStack("typed-notification", async () => {
      const p = new NotificationProvider("hook", { metadata: { namespace: ns }, spec: { type: "generic", address: "http://127.0.0.1:9/hook" }, kubeconfig: pulumi.secret(kubeconfig) });
      const a = new Alert("all", {
        metadata: { namespace: ns },
        spec: { providerRef: { name: p.metadata.name }, eventSources: [{ kind: "GitRepository", name: "*" }], eventSeverity: "info" },
        kubeconfig: pulumi.secret(kubeconfig),
      });
      return { ready: a.ready };
    });
    const res = await stack.up();
    expect(res.outputs.ready).to.equal(true);
    expect(await getObject("notification.toolkit.fluxcd.io/v1beta3", "Alert", "all", ns)).to.not.equal(undefined);
    expect(changed((await stack.up()).changes)).to.equal(0);
    await stack.destroy();
  });

  it("rejects an invalid spec at preview, naming the field", async () => {
    const ns = await newNamespace("typed");
    const stack = await inlineStack("typed-gitrepo-invalid", async () => {
      new GitRepository("app", {
        metadata: { namespace: ns },
        spec: { url: "ftp://example.invalid/repo.git", interval: "5 minutes" },
        kubeconfig: pulumi.secret(kubeconfig),
      });
      return {};
    });
    const err = await stack.preview().then(() => undefined, (e: Error) => e);
    expect(err).to.be.instanceOf(Error);
    // The whole message on failure: chai would cut it to its first 40 characters.
    expect(err!.message, err!.message).to.include("spec.url").and.include("spec.interval");
  });
});
