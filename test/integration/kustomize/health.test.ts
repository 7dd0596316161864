// Kustomization health: `wait` and `healthChecks` with kstatus semantics (Deployments and
// StatefulSets via kwok's simulated pods, Jobs, custom resources with Ready/Stalled conditions), `timeout`,
// and the Healthy condition; CRDs are applied (and established) before their objects.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, createKustomization, deploymentYaml, expectCurrent, gitRepositories, gitSource, kustomizations, readyCondition, requestReconcile,
  sharedControllers, waitForReady,
  schemalessCrd,
} from "./support";

const group = "health.example.com";
const { yaml: crd, res: gadgets } = schemalessCrd(group, "Gadget");

describe("Kustomization: health checks", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("waits for every applied object with wait: true and reports Healthy", async () => {
    const ns = await newNamespace("kz-wait");
    await gitSource(env.client, ns, { "app/deploy.yaml": deploymentYaml("web") });
    await createKustomization(env.client, ns, "web", { path: "./app", targetNamespace: ns, wait: true, timeout: "60s" });
    const k = await waitForReady(env.client, ns, "web");
    const healthy = k.status?.conditions?.find((c) => c.type === "Healthy");
    expect(healthy).to.include({ status: "True", reason: "Succeeded" });
    expect(healthy?.message).to.match(/^Health check passed in /);
    expectCurrent(k);
  });

  it("fails a health check that times out, naming the object, and recovers when fixed", async () => {
    const ns = await newNamespace("kz-unhealthy");
    const { fixture } = await gitSource(env.client, ns, { "app/deploy.yaml": deploymentYaml("blocked", { podSpec: "      nodeSelector: { no-such-node: \"true\" }\n" }) });
    await createKustomization(env.client, ns, "blocked", {
      path: "./app", targetNamespace: ns, timeout: "4s", retryInterval: "2s",
      healthChecks: [{ apiVersion: "apps/v1", kind: "Deployment", name: "blocked", namespace: ns }],
    });
    const k = await waitForReady(env.client, ns, "blocked", { status: "False", reason: "HealthCheckFailed" });
    expect(readyCondition(k)?.message).to.match(new RegExp(`^health check failed after [0-9.]+s: timeout waiting for: \\[Deployment/${ns}/blocked status: 'InProgress'\\]$`));
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).to.include({ status: "False", reason: "HealthCheckFailed" });
    expect(k.status?.conditions?.find((c) => c.type === "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    expect(k.status?.lastAppliedRevision, "a failed health check is not an applied revision").to.equal(undefined);
    const sha = await fixture.commitFiles({ "app/deploy.yaml": deploymentYaml("blocked") }, "schedulable");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const ok = await waitForReady(env.client, ns, "blocked", { revisionSha: sha, timeoutMs: 60_000 });
    expectCurrent(ok);
  });

  it("applies CRDs before their objects and waits for custom resources' Ready condition", async () => {
    const ns = await newNamespace("kz-cr");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd, "crd/gadget.yaml": `apiVersion: ${group}/v1\nkind: Gadget\nmetadata:\n  name: in-repo\nspec: { size: 1 }\n` });
    await createKustomization(env.client, ns, "crds", { path: "./crd", targetNamespace: ns });
    await waitForReady(env.client, ns, "crds");
    expect(await env.client.get(gadgets, { namespace: ns, name: "in-repo" })).to.not.equal(undefined);

    await env.client.create(gadgets, { apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "external", namespace: ns } } as never);
    await env.client.patchStatus(gadgets, { namespace: ns, name: "external" }, { status: { conditions: [{ type: "Ready", status: "False", reason: "Waiting", message: "warming up" }] } });
    await createKustomization(env.client, ns, "waits", {
      path: "./crd", targetNamespace: ns, timeout: "30s", prune: false,
      healthChecks: [{ apiVersion: `${group}/v1`, kind: "Gadget", name: "external", namespace: ns }],
    });
    await eventually(async () => {
      const k = await env.client.get<{ metadata?: object; status?: { conditions?: Array<{ type: string; status: string; reason: string }> } }>(kustomizations, { namespace: ns, name: "waits" });
      return k?.status?.conditions?.some((c) => c.type === "Healthy" && c.status === "Unknown" && c.reason === "Progressing");
    }, { what: "health check in progress" });
    await env.client.patchStatus(gadgets, { namespace: ns, name: "external" }, { status: { conditions: [{ type: "Ready", status: "True", reason: "Done", message: "ready" }] } });
    expectCurrent(await waitForReady(env.client, ns, "waits", { timeoutMs: 30_000 }));
  });

  it("fails early on a Stalled custom resource", async () => {
    const ns = await newNamespace("kz-stalled");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd });
    await createKustomization(env.client, ns, "crds", { path: "./crd", targetNamespace: ns });
    await waitForReady(env.client, ns, "crds");
    await env.client.create(gadgets, { apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "stuck", namespace: ns } } as never);
    await env.client.patchStatus(gadgets, { namespace: ns, name: "stuck" }, { status: { conditions: [{ type: "Stalled", status: "True", reason: "Broken", message: "cannot progress" }] } });
    await createKustomization(env.client, ns, "stalled", {
      path: "./crd", targetNamespace: ns, timeout: "60s", prune: false,
      healthChecks: [{ apiVersion: `${group}/v1`, kind: "Gadget", name: "stuck", namespace: ns }],
    });
    const k = await waitForReady(env.client, ns, "stalled", { status: "False", reason: "HealthCheckFailed", timeoutMs: 20_000 });
    expect(readyCondition(k)?.message).to.include(`failed early due to stalled resources: [Gadget/${ns}/stuck status: 'Failed']`);
  });

  it("waits for Jobs to complete", async () => {
    const ns = await newNamespace("kz-job");
    const job = `apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: m\n          image: busybox\n`;
    await gitSource(env.client, ns, { "job/job.yaml": job });
    await createKustomization(env.client, ns, "job", { path: "./job", targetNamespace: ns, wait: true, timeout: "60s" });
    const k = await waitForReady(env.client, ns, "job", { timeoutMs: 60_000 });
    const jobObj = await env.client.get<{ metadata?: object; status?: { succeeded?: number } }>({ group: "batch", version: "v1", plural: "jobs", kind: "Job" }, { namespace: ns, name: "migrate" });
    expect(jobObj?.status?.succeeded).to.equal(1);
    expectCurrent(k);
  });

  it("waits for a StatefulSet to roll out and fails on a rollout that cannot progress", async () => {
    const ns = await newNamespace("kz-sts");
    const sts = (nodeSelector = "") => `apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector: { app: db }
  ports: [{ port: 5432 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 2
  selector:
    matchLabels: { app: db }
  template:
    metadata:
      labels: { app: db }
    spec:
${nodeSelector}      containers:
        - name: db
          image: postgres:16
`;
    const { fixture } = await gitSource(env.client, ns, { "db/sts.yaml": sts() });
    await createKustomization(env.client, ns, "db", { path: "./db", targetNamespace: ns, wait: true, timeout: "60s", retryInterval: "2s" });
    const k = await waitForReady(env.client, ns, "db", { timeoutMs: 90_000 });
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).to.include({ status: "True", reason: "Succeeded" });
    const live = await env.client.get<{ metadata?: object; status?: { readyReplicas?: number; currentRevision?: string; updateRevision?: string } }>(statefulSets, { namespace: ns, name: "db" });
    expect(live?.status?.readyReplicas, "both pods Ready (kwok)").to.equal(2);
    expect(live?.status?.currentRevision).to.equal(live?.status?.updateRevision);
    expectCurrent(live);

    // A new pod template whose pods cannot be scheduled: the rolling update stalls.
    await env.client.patch(kustomizations, { namespace: ns, name: "db" }, { spec: { timeout: "5s" } });
    await waitForReady(env.client, ns, "db");
    const sha = await fixture.commitFiles({ "db/sts.yaml": sts("      nodeSelector: { no-such-node: \"true\" }\n") }, "unschedulable");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const failed = await waitForReady(env.client, ns, "db", { status: "False", reason: "HealthCheckFailed", revisionSha: sha, timeoutMs: 60_000 });
    expect(readyCondition(failed)?.message).to.match(new RegExp(`^health check failed after [0-9.]+s: timeout waiting for: \\[StatefulSet/${ns}/db status: 'InProgress'\\]$`));
  });
});

const statefulSets = { group: "apps", version: "v1", plural: "statefulsets", kind: "StatefulSet" };
