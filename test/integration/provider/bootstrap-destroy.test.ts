// Destroy of a Bootstrap: Flux's uninstall order, keep-namespace, files removed from git in one
// commit (never an empty one), and tolerance of a namespace or a whole cluster already gone.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Bootstrap } from "../../../provider";
import type { BootstrapArgs } from "../../../provider/components/bootstrap";
import * as devCluster from "../../../cli/dev-cluster";
import { getCluster, eventually } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";
import { Cluster } from "../../../provider/cluster/client";
import { commitCount, editInGit, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText, tipOf } from "./fixtures";
import { inlineStack } from "./pulumi-harness";
import { waitForSync, withControllers } from "./sync";

describe("Bootstrap destroy", function () {
  this.timeout(400_000);
  withControllers();

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

  it("succeeds when the whole cluster is gone, still removing the files from git", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-provider-cluster2-"));
    onTeardown(() => devCluster.down(dir).then(() => undefined));
    const other = await devCluster.up({ dir, contextName: "doomed" });
    const { git, stack, files } = await bootstrapped({ wait: false }, fs.readFileSync(other.kubeconfig, "utf8"));
    await devCluster.down(dir);
    await stack.destroy();
    expect(Object.values(await filesAt(git, files)).every((v) => v === null)).to.equal(true);
  });
});
