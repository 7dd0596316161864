// The product as users run it: `pulumi up` of a Bootstrap whose `registry` is a real registry
// installs the four controllers as pods on a real node (kubelet + containerd + runc, CNI bridge,
// kube-proxy, CoreDNS). The pods pass their probes; GitRepository -> Kustomization applies an
// app from git (kustomize-controller fetching the artifact from source-controller's Service
// name); a HelmRelease installs a chart; an Alert reaches a webhook. Then a version upgrade
// rolls the pods and reconciliation goes on; destroy removes it all. Runs in the real-node stage
// (GITOPS_TEST_REAL_NODE=1, scripts/test.sh): the cluster of this run has no kwok node.
import { expect } from "chai";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Alert, Bootstrap, HelmRelease, HelmRepository, Kustomization, NotificationProvider } from "../../provider";
import { REAL_NODE, trustRegistry } from "../../cli/real-node";
import { repoRoot } from "../../cli/tools";
import { Cluster } from "../../provider/cluster/client";
import { eventually, getCluster, realNodeStage } from "../support/cluster";
import { runChecked } from "../support/git-cli";
import { HelmRepoServer } from "../support/helm-repo";
import { crane, pushedImages, PREFIX } from "../support/images";
import { editInGit, getObject, gitRepo, gitRepoUser, kubeconfigText } from "../integration/provider/fixtures";
import { inlineStack } from "../integration/provider/pulumi-harness";
import { startWebhookSink } from "../integration/notification/support";
import { CONTROLLERS, controllerPods, describeNamespace, NS, podLogTail } from "./support";

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

describe("real node: Bootstrap runs the controllers as pods that reconcile", function () {
  this.timeout(1_200_000);
  let c: Cluster;

  before(async function () {
    if (!realNodeStage()) this.skip(); // counted as skipped, never passed; the real-node stage runs it
    const cl = await getCluster();
    c = new Cluster({ kubeconfig: cl.kubeconfigPath });
  });
  after(() => c?.close());
  afterEach(async function () {
    if (this.currentTest?.state === "failed" && c) console.error(await describeNamespace(c));
  });

  it("installs, reconciles git and Helm, upgrades by rolling the pods, and destroys", async () => {
    const { state } = await getCluster();
    const { registry, build } = await pushedImages();
    trustRegistry(state.dir, registry.host);
    const version = build.images[`${registry.host}/${PREFIX}/source-controller`]?.tag ?? Object.values(build.images)[0].tag;

    const git = await gitRepo({ http: { basicAuth: gitRepoUser, host: REAL_NODE.ip }, files: { "README.md": "x\n", ...app("hello") } });
    const helm = await HelmRepoServer.start({ host: REAL_NODE.ip });
    await helm.addChart("demo", "0.1.0");
    const sink = await startWebhookSink(REAL_NODE.ip);
    const kc = await kubeconfigText();

    const program = (ver: string) => async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!, namespace: NS,
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        registry: `${registry.host}/${PREFIX}`, version: ver,
        kubeconfig: pulumi.secret(kc), timeout: "5m",
      });
      const deps = { dependsOn: [b] };
      new Kustomization("demo", {
        metadata: { name: "demo", namespace: NS },
        spec: { interval: "1m", path: "./apps/demo", prune: true, wait: true, timeout: "2m", sourceRef: { kind: "GitRepository", name: NS } },
        kubeconfig: pulumi.secret(kc), timeout: "3m",
      }, deps);
      new HelmRepository("charts", { metadata: { name: "charts", namespace: NS }, spec: { interval: "1m", url: helm.url }, kubeconfig: pulumi.secret(kc), timeout: "2m" }, deps);
      new HelmRelease("demo", {
        metadata: { name: "demo", namespace: NS },
        spec: {
          interval: "1m", targetNamespace: "default", releaseName: "demo-chart",
          chart: { spec: { chart: "demo", version: "0.1.0", sourceRef: { kind: "HelmRepository", name: "charts" } } },
          // the chart's nginx cannot be pulled here: the node's own image, no HTTP probes
          values: { image: { repository: REAL_NODE.pauseImage.split(":")[0], tag: "3.10", pullPolicy: "Never" }, livenessProbe: null, readinessProbe: null },
        },
        kubeconfig: pulumi.secret(kc), timeout: "3m",
      }, deps);
      new NotificationProvider("hook", { metadata: { name: "hook", namespace: NS }, spec: { type: "generic", address: sink.url("/flux") }, kubeconfig: pulumi.secret(kc) }, deps);
      new Alert("all", {
        metadata: { name: "all", namespace: NS },
        spec: { providerRef: { name: "hook" }, eventSeverity: "info", eventSources: [{ kind: "Kustomization", name: "*" }, { kind: "HelmRelease", name: "*" }] },
        kubeconfig: pulumi.secret(kc),
      }, deps);
      return {};
    };

    const stack = await inlineStack("realnode", program(version));
    await stack.up();

    // four pods, Ready (their readiness probes passed), from our registry
    const pods = await controllerPods(c);
    expect(Object.keys(pods).sort()).to.deep.equal([...CONTROLLERS].sort());
    for (const n of CONTROLLERS) expect(pods[n].spec.containers[0].image).to.equal(`${registry.host}/${PREFIX}/${n}:${version}`);
    // git -> source-controller -> kustomize-controller (artifact over the Service name) -> the app runs
    expect((await getObject("v1", "ConfigMap", "demo", "default"))?.data).to.deep.equal({ greeting: "hello" });
    const appDeploy = await c.get<{ status?: { availableReplicas?: number } }>("apps/v1", "Deployment", "demo", "default");
    expect(appDeploy?.status?.availableReplicas).to.equal(1);
    // the chart, installed by helm-controller
    expect(await c.get("apps/v1", "Deployment", "demo-chart", "default")).to.not.equal(undefined);

    // an app change reaches the cluster, and its event reaches the webhook through notification-controller
    await editInGit(git, { "apps/demo/cm.yaml": app("again")["apps/demo/cm.yaml"] }, "greet again");
    await c.mergePatch("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "demo", NS, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date().toISOString() } } });
    await eventually(async () => (await getObject("v1", "ConfigMap", "demo", "default"))?.data?.greeting === "again", { timeoutMs: 120_000, what: "the app change applied by the pods" });
    try {
      // The root Kustomization (flux-system) reports to the same Alert: wait for the app's own event.
      const demoEvent = () => sink.at("/flux").map((r) => r.json as { involvedObject?: { kind?: string; name?: string } })
        .some((b) => b.involvedObject?.kind === "Kustomization" && b.involvedObject?.name === "demo");
      await eventually(async () => demoEvent(), { timeoutMs: 60_000, what: "the demo Kustomization's event at the Alert's webhook" });
    } catch (e) {
      const pods = await controllerPods(c);
      for (const n of ["kustomize-controller", "notification-controller"]) {
        if (pods[n]) console.error(`[real-node] ${n} log (events):\n${podLogTail(pods[n], 40, /event|forward|notification|alert|dispatch|listening|discard|Discard/i)}`);
      }
      throw e;
    }
    const ev = sink.at("/flux").map((r) => r.json as { involvedObject?: { kind?: string; name?: string }; reportingController?: string }).find((b) => b.involvedObject?.kind === "Kustomization" && b.involvedObject?.name === "demo");
    expect(ev?.involvedObject?.name).to.equal("demo");
    expect(ev?.reportingController).to.equal("kustomize-controller");

    // `gitops check` reports the pods healthy
    const check = await runChecked(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "check", "--kubeconfig", (await getCluster()).kubeconfigPath, "--namespace", NS]);
    for (const n of CONTROLLERS) expect(check).to.match(new RegExp(`${n}\\s+ready`));

    // upgrade: the same images under the next version's tag; the Deployments roll their pods
    const next = "v0.1.99";
    for (const n of CONTROLLERS) await crane(["tag", "--insecure", `${registry.host}/${PREFIX}/${n}:${version}`, next]);
    const before = Object.fromEntries(Object.entries(await controllerPods(c)).map(([k, p]) => [k, p.metadata.name]));
    const upgraded = await inlineStack("realnode", program(next), { stackName: stack.name, keep: true });
    await upgraded.up();
    const after = await controllerPods(c);
    for (const n of CONTROLLERS) {
      expect(after[n]?.spec.containers[0].image, n).to.equal(`${registry.host}/${PREFIX}/${n}:${next}`);
      expect(after[n].metadata.name, `${n} rolled`).to.not.equal(before[n]);
    }
    await editInGit(git, { "apps/demo/cm.yaml": app("upgraded")["apps/demo/cm.yaml"] }, "after the upgrade");
    await c.mergePatch("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "demo", NS, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": new Date().toISOString() } } });
    await eventually(async () => (await getObject("v1", "ConfigMap", "demo", "default"))?.data?.greeting === "upgraded", { timeoutMs: 120_000, what: "reconciliation after the upgrade" });

    await stack.destroy();
    await eventually(async () => !(await c.get("v1", "Namespace", NS)), { timeoutMs: 180_000, what: `namespace ${NS} gone` });
    expect(await c.list("apiextensions.k8s.io/v1", "CustomResourceDefinition", { labelSelector: "app.kubernetes.io/part-of=flux" })).to.have.length(0);
  });


});
