// Bad input on a real node: a Bootstrap whose images cannot be pulled fails with the kubelet's
// reason, not at its timeout. Runs in the real-node stage (GITOPS_TEST_REAL_NODE=1).
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../provider";
import { REAL_NODE } from "../../cli/real-node";
import { getCluster, realNodeStage } from "../support/cluster";
import { pushedImages, PREFIX } from "../support/images";
import { gitRepo, gitRepoUser, kubeconfigText } from "../integration/provider/fixtures";
import { inlineStack } from "../integration/provider/pulumi-harness";

describe("real node: Bootstrap with images the node cannot pull", function () {
  this.timeout(1_200_000);
  before(async function () {
    if (!realNodeStage()) this.skip(); // counted as skipped, never passed; the real-node stage runs it
    await getCluster(); // the bridge the git server binds to exists once the real node is up
  });

  it("fails the Bootstrap with the pod's real reason when an image cannot be pulled", async () => {
    const { registry } = await pushedImages();
    const git = await gitRepo({ http: { basicAuth: gitRepoUser, host: REAL_NODE.ip } });
    const kc = await kubeconfigText();
    const stack = await inlineStack("realnode-bad", async () => {
      new Bootstrap("flux", {
        url: git.urls.http!, namespace: "flux-bad",
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        registry: `${registry.host}/${PREFIX}`, version: "v9.9.9", components: ["source-controller", "kustomize-controller"],
        kubeconfig: pulumi.secret(kc), timeout: "4m",
      });
      return {};
    });
    const t0 = Date.now();
    const err = await stack.up().then(() => undefined, (e: Error) => e);
    expect(err, "up must fail").to.be.instanceOf(Error);
    expect(String(err)).to.match(/cannot start: pod \S+ container manager: (ErrImagePull|ImagePullBackOff)/);
    expect(String(err)).to.include("v9.9.9");
    expect(Date.now() - t0, "fails on the pod's reason, not at the 4m timeout").to.be.below(180_000);
    await stack.destroy().catch(() => undefined);
  });
});
