// Destroy of a Bootstrap: Flux's uninstall order, keep-namespace, files removed from git in one
// commit (never an empty one), and tolerance of a namespace or a whole cluster already gone.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap, Kustomization } from "../../../provider";
import type { BootstrapArgs } from "../../../provider/components/bootstrap";
import { startExtraCluster } from "../../support/extra-cluster";
import { getCluster, eventually } from "../../support/cluster";
import { Cluster } from "../../../provider/cluster/client";
import { releaseFluxObjects } from "../../../provider/cluster/uninstall";
import { requestReconcile, waitReady } from "../../../provider/cluster/wait";
import { commitCount, editInGit, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText, tipOf } from "./fixtures";
import { inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

describe("Bootstrap destroy", function () {
  this.timeout(400_000);
  const controllers = withControllers();
  /** A destroy deletes the CRDs: the controllers restart once they exist again. */
  const startControllersAgain = () => controllers.restart();

  async function bootstrapped(args: Partial<BootstrapArgs> = {}, kubeconfig?: string) {
    const git = await gitRepo();
    const ns = fluxNamespace();
    const kc = kubeconfig ?? (await kubeconfigText());
    const stack = await inlineStack("destroy", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kc),
        ...waitForSync(),
        ...args,
      });
      return { files: b.files };
    });
    const res = await stack.up();
    return { git, ns, stack, files: Object.keys(res.outputs.files as Record<string, string>) };
  }

  it("keeps the namespace when asked, removes controllers, CRDs and the files (one commit)", async () => {
    const { git, ns, stack, files } = await bootstrapped({ keepNamespace: true });
    const commits = await commitCount(git);
    await stack.destroy();
    expect(await getObject("v1", "Namespace", ns)).to.not.equal(undefined);
    expect(await getObject("apps/v1", "Deployment", "kustomize-controller", ns)).to.equal(undefined);
    expect(await getObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", "kustomizations.kustomize.toolkit.fluxcd.io")).to.equal(undefined);
    expect(Object.values(await filesAt(git, files)).every((v) => v === null)).to.equal(true);
    expect(await commitCount(git)).to.equal(commits + 1);
  });

  it("deletes the namespace by default, and never makes an empty commit when the files are already gone", async () => {
    const { git, ns, stack, files } = await bootstrapped();
    await editInGit(git, Object.fromEntries(files.map((f) => [f, null])), "someone removed them already");
    const tip = await tipOf(git);
    await stack.destroy();
    await eventually(async () => {
      const n = await getObject<{ status?: { phase?: string } }>("v1", "Namespace", ns);
      return !n || n.status?.phase === "Terminating";
    }, { timeoutMs: 30_000, what: "namespace deleted" });
    expect(await tipOf(git)).to.equal(tip);
  });

  it("succeeds when the namespace was deleted by hand, and can leave the files in git", async () => {
    const { git, ns, stack, files } = await bootstrapped({ deleteGitManifests: false });
    const { kubeconfigPath } = await getCluster();
    const cluster = new Cluster({ kubeconfig: kubeconfigPath });
    await cluster.delete("v1", "Namespace", ns);
    cluster.close();
    await stack.destroy();
    expect(Object.values(await filesAt(git, files)).every((v) => v !== null)).to.equal(true);
  });

  it("releases Kustomizations so that a controller still running when the CRDs go prunes nothing", async function () {
    // A controller pod in its grace period (or one run outside the cluster) puts its finalizer
    // back after uninstall removed it; the uninstall suspends the Kustomization in the same patch,
    // so that finalizer, run when the CRDs are deleted, must leave the workloads alone.
    if (!canSync()) this.skip();
    const git = await gitRepo({ files: { "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: workload}\ndata: {a: b}\n" } });
    const ns = fluxNamespace();
    const { kubeconfigPath } = await getCluster();
    const c = new Cluster({ kubeconfig: kubeconfigPath });
    try {
      await c.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      await c.apply({ apiVersion: "v1", kind: "Secret", metadata: { name: "git", namespace: ns }, stringData: gitRepoUser });
      await c.apply({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: ns },
        spec: { url: git.urls.http!, interval: "1m", ref: { branch: "main" }, secretRef: { name: "git" } } });
      await c.apply({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "app", namespace: ns },
        spec: { interval: "1m", path: "./app", prune: true, targetNamespace: ns, sourceRef: { kind: "GitRepository", name: "repo" } } });
      const ref = { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: "app", namespace: ns };
      const ks = () => c.get<{ metadata: { finalizers?: string[] }; spec: { suspend?: boolean } }>(ref.apiVersion, ref.kind, ref.name, ns);
      await waitReady(c, ref, { deadline: Date.now() + 60_000 });
      expect(await getObject("v1", "ConfigMap", "workload", ns)).to.not.equal(undefined);

      await releaseFluxObjects(c, { namespace: ns });
      expect((await ks())!.spec.suspend).to.equal(true);
      // The running controller's next reconcile (asked for now, as its interval would) puts its
      // finalizer back.
      await requestReconcile(c, ref);
      await eventually(async () => ((await ks())?.metadata.finalizers ?? []).length > 0, { timeoutMs: 30_000, what: "finalizer re-added by the controller" });
      await c.delete(ref.apiVersion, ref.kind, ref.name, ns);
      await eventually(async () => !(await ks()), { timeoutMs: 30_000, what: "Kustomization finalized and gone" });
      expect(await getObject("v1", "ConfigMap", "workload", ns), "the workload survives the finalizer").to.not.equal(undefined);
    } finally {
      await c.delete("v1", "Namespace", ns);
      c.close();
    }
  });

  it("with cascade, deletes what the tenants' Kustomizations applied before uninstalling; without, leaves it", async function () {
    if (!canSync()) this.skip();
    for (const cascade of [true, false]) {
      const ns = fluxNamespace();
      // a ConfigMap of its own per iteration: another iteration's or test's "demo" cannot answer for it
      const workload = `workload-${ns}`;
      const git = await gitRepo({ files: { "README.md": "x\n", "apps/demo/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${workload}, namespace: default}\ndata: {a: b}\n` } });
      const kc = await kubeconfigText();
      const name = `demo-${ns}`;
      const stack = await inlineStack("cascade", async () => {
        const b = new Bootstrap("flux", {
          url: git.urls.http!, namespace: ns, cascade,
          http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
          kubeconfig: pulumi.secret(kc), ...waitForSync(),
        });
        // Created outside the bootstrap (as a tenant would), so the bootstrap's destroy finds it.
        new Kustomization("apps", {
          metadata: { name, namespace: ns },
          spec: { interval: "5m", path: "./apps/demo", prune: true, sourceRef: { kind: "GitRepository", name: ns } },
          kubeconfig: pulumi.secret(kc),
          timeout: "60s",
        }, { dependsOn: [b], retainOnDelete: true });
        return {};
      });
      await stack.up();
      expect(await getObject("v1", "ConfigMap", workload, "default")).to.not.equal(undefined);
      await stack.destroy();
      const cm = await getObject("v1", "ConfigMap", workload, "default");
      if (cascade) expect(cm, "cascade removes what the Kustomization applied").to.equal(undefined);
      else expect(cm, "without cascade, workloads stay (as with Flux)").to.not.equal(undefined);
      if (!cascade) {
        const { kubeconfigPath } = await getCluster();
        const c = new Cluster({ kubeconfig: kubeconfigPath });
        await c.delete("v1", "ConfigMap", workload, "default");
        c.close();
      }
      await startControllersAgain();
    }
  });

  it("succeeds when the whole cluster is gone, still removing the files from git", async () => {
    const other = await startExtraCluster("doomed");
    const { git, stack, files } = await bootstrapped({ wait: false }, other.kubeconfig);
    await other.stop();
    await stack.destroy();
    expect(Object.values(await filesAt(git, files)).every((v) => v === null)).to.equal(true);
  });
});
