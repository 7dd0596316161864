// Drift: a root object deleted from the cluster, the bootstrap files edited in git, or the whole
// installation gone from the cluster (a recreated cluster), is seen by the next preview (no
// refresh needed) and repaired by the next up; refresh records it too.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import { getCluster } from "../../support/cluster";
import { eventually } from "../../support/cluster";
import { commitCount, editInGit, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";
import { Cluster } from "../../../provider/cluster/client";
import { deadlineAfter } from "../../../provider/cluster/time";
import { uninstall } from "../../../provider/cluster/uninstall";

describe("Bootstrap drift", function () {
  this.timeout(400_000);
  const controllers = withControllers();

  it("recreates the root GitRepository deleted from the cluster, and restores files edited in git", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("drift", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        path: "clusters/drift",
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { files: b.files, appliedRevision: b.appliedRevision };
    });
    const first = await stack.up();
    const files = first.outputs.files as Record<string, string>;

    // 1. Someone deletes the root GitRepository.
    const { kubeconfigPath } = await getCluster();
    const cluster = new Cluster({ kubeconfig: kubeconfigPath });
    await cluster.delete("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns);
    await eventually(async () => !(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns)), { timeoutMs: 30_000, what: "GitRepository deleted" });
    const seen = await stack.preview();
    expect(seen.changes.update, JSON.stringify(seen.changes)).to.equal(1);
    const repaired = await stack.up();
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns)).to.not.equal(undefined);
    if (canSync()) expect(repaired.outputs.appliedRevision).to.match(/^main@sha1:/);
    expect(changed((await stack.up()).changes)).to.equal(0);

    // 2. Someone edits the bootstrap files in git.
    const kPath = `clusters/drift/${ns}/kustomization.yaml`;
    const sPath = `clusters/drift/${ns}/gotk-sync.yaml`;
    await editInGit(git, { [kPath]: null, [sPath]: files[sPath]!.replace("interval: 1m0s", "interval: 7m") }, "hand edits");
    await stack.refresh();
    const afterRefresh = await stack.preview();
    expect(afterRefresh.changes.update).to.equal(1);
    await stack.up();
    const inGit = await filesAt(git, [kPath, sPath]);
    expect(inGit[kPath]).to.equal(files[kPath]);
    expect(inGit[sPath]).to.equal(files[sPath]);
    await stack.preview({ expectNoChanges: true });
    cluster.close();
  });

  it("reinstalls everything when Flux is gone from the cluster (namespace, CRDs, Secret), with no new commit", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("drift-cluster", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        path: "clusters/recreated",
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision };
    });
    const first = await stack.up();
    const commits = await commitCount(git);

    // The cluster loses the installation: what a new cluster (or `flux uninstall`) looks like.
    const { kubeconfigPath } = await getCluster();
    const cluster = new Cluster({ kubeconfig: kubeconfigPath });
    const problems = await uninstall(cluster, { namespace: ns, deadline: deadlineAfter(60_000) });
    expect(problems).to.deep.equal([]);
    await eventually(async () => !(await getObject("v1", "Namespace", ns)), { timeoutMs: 60_000, what: `namespace ${ns} deleted` });
    await eventually(async () => !(await getObject("apiextensions.k8s.io/v1", "CustomResourceDefinition", "gitrepositories.source.toolkit.fluxcd.io")), { timeoutMs: 60_000, what: "Flux CRDs deleted" });
    cluster.close();

    const seen = await stack.preview();
    expect(seen.changes.update, JSON.stringify(seen.changes)).to.equal(1);
    // Our controllers (local processes) watch the CRDs: started again once they exist.
    await controllers.restart();
    const repaired = await stack.up();
    expect(changed(repaired.changes), JSON.stringify(repaired.changes)).to.equal(1);
    expect(await getObject("v1", "Namespace", ns)).to.not.equal(undefined);
    expect(await getObject("apps/v1", "Deployment", "source-controller", ns)).to.not.equal(undefined);
    const secret = await getObject("v1", "Secret", ns, ns);
    expect(Buffer.from(secret!.data!.password!, "base64").toString()).to.equal(gitRepoUser.password);
    expect(await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns)).to.not.equal(undefined);
    // Git already held the files: nothing new was pushed, and the sync is back at the same commit.
    expect(await commitCount(git)).to.equal(commits);
    expect(repaired.outputs.revision).to.equal(first.outputs.revision);
    if (canSync()) expect(repaired.outputs.appliedRevision).to.equal(`main@sha1:${first.outputs.revision}`);
    await stack.preview({ expectNoChanges: true });
  });
});
