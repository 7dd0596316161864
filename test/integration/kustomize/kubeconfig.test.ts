// Kustomization kubeConfig.secretRef: objects are applied to the cluster of a kubeconfig
// stored in a Secret. A second embedded cluster (with its own kwok node) is that remote
// cluster: the objects land there and not in the controller's cluster, `wait` health checks
// run against it (a Deployment becomes Available there), and deleting the Kustomization
// prunes there. A missing Secret is a ReconciliationFailed naming it.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import { Env, configMap, core, createKustomization, deploymentYaml, expectCurrent, gitSource, kustomizations, readyCondition, sharedControllers, waitForReady } from "./support";
import { ExtraCluster, startExtraCluster } from "../../support/extra-cluster";

type Deploy = KubeObject & { status?: { availableReplicas?: number } };

describe("Kustomization: remote cluster kubeconfig", function () {
  this.timeout(180_000);
  let env: Env;
  let remote: ExtraCluster;
  before(async function () {
    this.timeout(180_000);
    env = await sharedControllers();
    remote = await startExtraCluster("kz-remote");
  });
  after(async () => { await remote?.stop(); });

  it("applies, health-checks and prunes on the cluster of spec.kubeConfig.secretRef, not on its own", async () => {
    const ns = await newNamespace("kz-remote");
    // The same namespace name on the remote cluster; the local one stays empty.
    await remote.client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
    await gitSource(env.client, ns, { "app/cm.yaml": configMap("remote-cm", { v: "1" }), "app/deploy.yaml": deploymentYaml("remote-web", { replicas: 2 }) });
    await createKustomization(env.client, ns, "app", {
      path: "./app", targetNamespace: ns, retryInterval: "2s", wait: true, timeout: "60s",
      kubeConfig: { secretRef: { name: "prod-kubeconfig" } },
    });
    const failed = await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed" });
    expect(readyCondition(failed)?.message).to.equal(`unable to read KubeConfig secret '${ns}/prod-kubeconfig': secrets "prod-kubeconfig" not found`);

    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "prod-kubeconfig", namespace: ns },
      stringData: { "value.yaml": remote.kubeconfig } } as never);
    const k = await waitForReady(env.client, ns, "app", { timeoutMs: 90_000 });
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).to.include({ status: "True", reason: "Succeeded" });
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([`${ns}_remote-cm__ConfigMap`, `${ns}_remote-web_apps_Deployment`]);

    const remoteCm = await remote.client.get<KubeObject>(core.configMaps, { namespace: ns, name: "remote-cm" });
    expect(remoteCm?.metadata?.labels).to.include({ "kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": ns });
    // The health check passed on the remote cluster: the Deployment is Available there (kwok pods).
    const remoteDeploy = await remote.client.get<Deploy>(core.deployments, { namespace: ns, name: "remote-web" });
    expect(remoteDeploy?.status?.availableReplicas).to.equal(2);
    expectCurrent(remoteDeploy);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "remote-cm" }), "nothing applied to the controller's cluster").to.equal(undefined);
    expect(await env.client.get(core.deployments, { namespace: ns, name: "remote-web" })).to.equal(undefined);
    expectCurrent(k);

    await env.client.delete(kustomizations, { namespace: ns, name: "app" });
    await eventually(async () => !(await env.client.get(kustomizations, { namespace: ns, name: "app" })), { what: "Kustomization gone", timeoutMs: 30_000 });
    expect(await remote.client.get(core.configMaps, { namespace: ns, name: "remote-cm" }), "pruned on the remote cluster").to.equal(undefined);
    await eventually(async () => !(await remote.client.get(core.deployments, { namespace: ns, name: "remote-web" })), { what: "remote Deployment deleted", timeoutMs: 30_000 });
  });

  it("fails the health check on the remote cluster when the object is not healthy there", async () => {
    const ns = await newNamespace("kz-remote-hc");
    await remote.client.create(core.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
    // A Deployment with the same name exists and is Available on the controller's own cluster;
    // on the remote one its pods cannot be scheduled.
    await env.client.create(core.deployments, deploymentObject("web", ns) as never);
    await eventually(async () => ((await env.client.get<Deploy>(core.deployments, { namespace: ns, name: "web" }))?.status?.availableReplicas ?? 0) >= 1, { what: "local Deployment Available", timeoutMs: 60_000 });
    const blocked = deploymentObject("web", ns, { "no-such-node": "true" });
    await remote.client.create(core.deployments, blocked as never);
    await gitSource(env.client, ns, { "app/cm.yaml": configMap("c", { v: "1" }) });
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "remote", namespace: ns }, stringData: { value: remote.kubeconfig } } as never);
    await createKustomization(env.client, ns, "app", {
      path: "./app", targetNamespace: ns, timeout: "4s", retryInterval: "1m",
      kubeConfig: { secretRef: { name: "remote" } },
      healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", namespace: ns }],
    });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "HealthCheckFailed", timeoutMs: 60_000 });
    expect(readyCondition(k)?.message).to.include(`Deployment/${ns}/web status: 'InProgress'`);
    expect(await remote.client.get(core.configMaps, { namespace: ns, name: "c" })).to.not.equal(undefined);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "c" })).to.equal(undefined);
  });
});

function deploymentObject(name: string, namespace: string, nodeSelector?: Record<string, string>): object {
  return {
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace },
    spec: {
      replicas: 1, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { ...(nodeSelector ? { nodeSelector } : {}), containers: [{ name: "app", image: "nginx:1.27" }] } },
    },
  };
}
