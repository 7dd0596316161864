// The product as users run it: `pulumi up` of a Bootstrap whose `registry` is a real registry
// installs the four controllers as pods on a real node (kubelet + containerd + runc, CNI bridge,
// kube-proxy, CoreDNS). The pods pass their probes; GitRepository -> Kustomization applies an
// app from git (kustomize-controller fetching the artifact from source-controller's Service
// name); a HelmRelease installs a chart; an Alert reaches a webhook. Then a version upgrade
// rolls the pods and reconciliation goes on; destroy removes it all. Runs in the real-node stage
// (GITOPS_TEST_REAL_NODE=1, scripts/test.sh): the cluster of this run has no kwok node.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Alert, Bootstrap, HelmRelease, HelmRepository, Kustomization, NotificationProvider } from "../../provider";
import { REAL_NODE, trustRegistry } from "../../cli/real-node";
import { Cluster } from "../../provider/cluster/client";
import { eventually, getCluster, realNodeStage } from "../support/cluster";
import { HelmRepoServer } from "../support/helm-repo";
import { crane, pushedImages, PREFIX } from "../support/images";
import { editInGit, getObject, gitRepo, gitRepoUser, kubeconfigText } from "../integration/provider/fixtures";
import { inlineStack } from "../integration/provider/pulumi-harness";
import { startWebhookSink } from "../integration/notification/support";
import { runChecked } from "../support/git-cli";
import { repoRoot } from "../../cli/tools";
import * as path from "node:path";

const NS = "flux-system";
const CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
/** The sample app: a ConfigMap and a Deployment of the node's own image, so its pod runs without a registry. */
const app = (greeting: string) => ({
  "apps/demo/kustomization.yaml": "resources: [cm.yaml, deploy.yaml]\n",
  "apps/demo/cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: demo, namespace: default}\ndata: {greeting: ${greeting}}\n`,
  "apps/demo/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: demo, namespace: default}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers: [{name: pause, image: "${REAL_NODE.pauseImage}", imagePullPolicy: Never}]
`,
});

interface PodView { metadata: { name: string; labels?: Record<string, string> }; spec: { containers: { image: string }[] }; status?: { phase?: string; conditions?: { type: string; status: string }[] } }

async function controllerPods(c: Cluster): Promise<Record<string, PodView>> {
  const pods = await c.list<PodView>("v1", "Pod", { namespace: NS });
  const out: Record<string, PodView> = {};
  for (const p of pods) {
    const app = p.metadata.labels?.app;
    const ready = p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True");
    if (app && ready) out[app] = p;
  }
  return out;
}

describe("real node: Bootstrap runs the controllers as pods that reconcile", function () {
  this.timeout(1_200_000);
  let c: Cluster;

  before(async function () {
    if (!realNodeStage()) this.skip(); // counted as skipped, never passed; the real-node stage runs it
    const cl = await getCluster();
    c = new Cluster({ kubeconfig: cl.kubeconfigPath });
  });
  after(() => c?.close());

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
