// Drift: a root object deleted from the cluster, or the bootstrap files edited in git, is seen by
// the next preview (no refresh needed) and repaired by the next up; refresh records it too.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import { getCluster } from "../../support/cluster";
import { eventually } from "../../support/cluster";
import { editInGit, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";
import { Cluster } from "../../../provider/cluster/client";

describe("Bootstrap drift", function () {
  this.timeout(400_000);
  withControllers();

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
});
