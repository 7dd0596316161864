// Preview needs neither git nor the cluster: the files are rendered from code by the plugin's
// check, so a preview shows them with an unreachable server and a kubeconfig that is not known
// yet (a cluster created in the same program), and the same program then deploys.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap, SshKeyPair } from "../../../provider";
import { fluxNamespace, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { inlineStack } from "./pulumi-harness";
import { waitForSync, withControllers } from "./sync";

const deadKubeconfig = [
  "apiVersion: v1",
  "kind: Config",
  "clusters: [{name: gone, cluster: {server: 'https://127.0.0.1:9'}}]",
  "users: [{name: u, user: {token: t}}]",
  "contexts: [{name: c, context: {cluster: gone, user: u}}]",
  "current-context: c",
  "",
].join("\n");

describe("Bootstrap preview", function () {
  this.timeout(300_000);
  withControllers();

  it("renders the files offline: no git server and no cluster are contacted", async () => {
    const stack = await inlineStack("preview-offline", async () => {
      const b = new Bootstrap("flux", { url: "https://git.example.invalid/fleet.git", path: "clusters/offline", kubeconfig: deadKubeconfig, http: { bearerToken: "t" } });
      return { files: b.files };
    });
    const t0 = Date.now();
    const p = await stack.preview();
    expect(p.changes.create).to.equal(3);
    expect(p.stdout).to.include("clusters/offline/flux-system/gotk-components.yaml").and.include("gotk-sync.yaml").and.include("kustomization.yaml");
    expect(Date.now() - t0).to.be.lessThan(30_000);
  });

  it("binds the kubeconfig late: unknown at preview, resolved at deploy time", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("late-bound", async () => {
      // Stands for "a cluster created earlier in this program": its kubeconfig is an output.
      const cluster = new SshKeyPair("stand-in-for-a-cluster");
      const late = cluster.fingerprint.apply(() => kubeconfig);
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(late),
        ...waitForSync(),
      });
      return { revision: b.revision, files: b.files };
    });
    const p = await stack.preview();
    expect(p.changes.create).to.equal(4);
    const res = await stack.up();
    expect(res.outputs.revision).to.match(/^[0-9a-f]{40}$/);
  });
});
