import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { eventually, getCluster, newNamespace } from "../../support/cluster";

describe("embedded cluster: workloads and namespaces", function () {
  let kc: k8s.KubeConfig;
  before(async function () {
    this.timeout(90000);
    ({ kc } = await getCluster());
  });

  it("makes a Deployment Available with pods simulated by kwok", async function () {
    const ns = await newNamespace();
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: {
      metadata: { name: "web" },
      spec: { replicas: 2, selector: { matchLabels: { app: "web" } },
        template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } } },
    } });
    const dep = await eventually(async () => {
      const d = await apps.readNamespacedDeployment({ name: "web", namespace: ns });
      return d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") && d.status?.readyReplicas === 2 ? d : undefined;
    }, { timeoutMs: 30000, what: "Deployment Available with 2 ready replicas" });
    expect(dep.status?.availableReplicas).to.equal(2);
    const pods = await kc.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: ns });
    expect(pods.items.map((p) => p.status?.phase)).to.deep.equal(["Running", "Running"]);
  });

  it("completes a Job", async function () {
    const ns = await newNamespace();
    const batch = kc.makeApiClient(k8s.BatchV1Api);
    await batch.createNamespacedJob({ namespace: ns, body: {
      metadata: { name: "once" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] } } },
    } });
    await eventually(async () => {
      const j = await batch.readNamespacedJob({ name: "once", namespace: ns });
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True");
    }, { timeoutMs: 30000, what: "Job Complete" });
  });

  it("deletes a namespace with objects in it, and garbage-collects owned objects", async function () {
    const ns = await newNamespace();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "cfg" }, data: { a: "1" } } });
    await apps.createNamespacedDeployment({ namespace: ns, body: {
      metadata: { name: "gc" },
      spec: { replicas: 1, selector: { matchLabels: { app: "gc" } },
        template: { metadata: { labels: { app: "gc" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
    } });
    await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 1, { what: "ReplicaSet created" });
    await apps.deleteNamespacedDeployment({ name: "gc", namespace: ns, propagationPolicy: "Background" });
    await eventually(async () => (await apps.listNamespacedReplicaSet({ namespace: ns })).items.length === 0,
      { timeoutMs: 30000, what: "ReplicaSet garbage-collected" });

    await core.deleteNamespace({ name: ns });
    await eventually(async () => {
      try { await core.readNamespace({ name: ns }); return false; } catch (e) { return (e as { code?: number }).code === 404; }
    }, { timeoutMs: 60000, what: `namespace ${ns} gone` });
  });

  it("issues ServiceAccount tokens and enforces RBAC for them", async function () {
    const ns = await newNamespace();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: "robot" } } });
    const tr = await core.createNamespacedServiceAccountToken({ name: "robot", namespace: ns, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const token = tr.status?.token;
    expect(token).to.be.a("string").and.not.empty;
    const robot = new k8s.KubeConfig();
    const cluster = kc.getCurrentCluster()!;
    robot.loadFromOptions({
      clusters: [cluster], users: [{ name: "robot", token }],
      contexts: [{ name: "robot", cluster: cluster.name, user: "robot" }], currentContext: "robot",
    });
    let err: unknown;
    try { await robot.makeApiClient(k8s.CoreV1Api).listNamespacedSecret({ namespace: ns }); } catch (e) { err = e; }
    expect((err as { code?: number }).code).to.equal(403);
  });
});
