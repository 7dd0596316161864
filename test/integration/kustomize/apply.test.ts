// Kustomization apply: Flux's example layouts (a plain app directory; a base plus overlays)
// reconcile to Ready with status, labels, inventory and events as Flux writes them; a source
// in another namespace is allowed by default and its new revisions are followed.
import { expect } from "chai";
import { Kustomization } from "../../../controllers/api/kustomize/v1/kustomization";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, configMap, core, createKustomization, expectCurrent, gitRepositories, gitSource, readyCondition, requestReconcile, sharedControllers, waitForReady,
} from "./support";

const app = (ns: string) => ({
  "apps/podinfo/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: podinfo
spec:
  replicas: 1
  selector:
    matchLabels: { app: podinfo }
  template:
    metadata:
      labels: { app: podinfo }
    spec:
      containers:
        - name: podinfo
          image: ghcr.io/stefanprodan/podinfo:6.5.0
          ports:
            - containerPort: 9898
`,
  "apps/podinfo/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: podinfo
spec:
  selector: { app: podinfo }
  ports:
    - port: 9898
      targetPort: 9898
`,
  "apps/podinfo/config.yaml": configMap("podinfo-config", { level: "info" }),
  "README.md": `# ${ns}\n`,
});

describe("Kustomization: apply", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("applies a plain directory (generated kustomization) and reports status as Flux does", async () => {
    const ns = await newNamespace("kz-apply");
    const { commit } = await gitSource(env.client, ns, app(ns));
    await createKustomization(env.client, ns, "podinfo", { path: "./apps/podinfo", targetNamespace: ns, wait: true, timeout: "1m" });
    const k = await waitForReady(env.client, ns, "podinfo", { revisionSha: commit });
    const rev = `main@sha1:${commit}`;
    expect(k.status?.lastAppliedRevision).to.equal(rev);
    expect(k.status?.lastAttemptedRevision).to.equal(rev);
    expect(readyCondition(k)).to.include({ reason: "ReconciliationSucceeded", message: `Applied revision: ${rev}` });
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).to.include({ status: "True", reason: "Succeeded" });
    expect(k.status?.conditions?.some((c) => c.type === "Reconciling")).to.equal(false);
    expect(k.status?.observedGeneration).to.equal(k.metadata.generation);
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([
      `${ns}_podinfo-config__ConfigMap`, `${ns}_podinfo__Service`, `${ns}_podinfo_apps_Deployment`,
    ]);
    expect(k.status?.inventory?.entries.find((e) => e.id.endsWith("_apps_Deployment"))?.v).to.equal("v1");
    expect(k.status?.history?.[0]).to.include({ lastReconciledStatus: "ReconciliationSucceeded", totalReconciliations: 1 });
    const cm = await env.client.get<KubeObject>(core.configMaps, { namespace: ns, name: "podinfo-config" });
    expect(cm?.metadata?.labels).to.include({ "kustomize.toolkit.fluxcd.io/name": "podinfo", "kustomize.toolkit.fluxcd.io/namespace": ns });
    expect(JSON.stringify((cm?.metadata as { managedFields?: unknown })?.managedFields)).to.include("kustomize-controller");
    const events = await eventually(async () => {
      const list = await env.client.list<KubeObject & { reason: string; message: string; source?: { component?: string } }>(core.events, { namespace: ns });
      const mine = list.items.filter((e) => e.source?.component === "kustomize-controller");
      return mine.some((e) => e.reason === "ReconciliationSucceeded") ? mine : undefined;
    }, { what: "kustomize-controller events" });
    const progressing = events.find((e) => e.message.includes("Deployment/") && e.message.includes("created"));
    expect(progressing?.message).to.include(`Service/${ns}/podinfo created`);
    expect(events.some((e) => /^Reconciliation finished in .+, next run in 10m0s$/.test(e.message))).to.equal(true);
    expectCurrent(k);
  });

  it("builds a base plus overlays with the real kustomize", async () => {
    const ns = await newNamespace("kz-overlay");
    const files = {
      "base/kustomization.yaml": "resources:\n  - config.yaml\n",
      "base/config.yaml": configMap("settings", { env: "base", color: "blue" }),
      "overlays/staging/kustomization.yaml": `resources:\n  - ../../base\nnamePrefix: staging-\npatches:\n  - patch: |\n      apiVersion: v1\n      kind: ConfigMap\n      metadata:\n        name: settings\n      data:\n        env: staging\n`,
      "overlays/production/kustomization.yaml": "resources:\n  - ../../base\nnamePrefix: prod-\n",
    };
    const { commit } = await gitSource(env.client, ns, files);
    await createKustomization(env.client, ns, "staging", {
      path: "./overlays/staging", targetNamespace: ns,
      images: [{ name: "unused", newTag: "1" }],
      commonMetadata: { labels: { team: "a" }, annotations: { owner: "team-a" } },
      patches: [{ patch: "- op: add\n  path: /data/extra\n  value: from-spec\n", target: { kind: "ConfigMap" } }],
    });
    await waitForReady(env.client, ns, "staging", { revisionSha: commit });
    const cm = await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "staging-settings" });
    expect(cm?.data).to.deep.equal({ env: "staging", color: "blue", extra: "from-spec" });
    expect(cm?.metadata?.labels).to.include({ team: "a" });
    expect(cm?.metadata?.annotations).to.include({ owner: "team-a" });
  });

  it("corrects drift on the next reconcile", async () => {
    const ns = await newNamespace("kz-drift");
    await gitSource(env.client, ns, { "cm.yaml": configMap("drifty", { a: "1" }) });
    await createKustomization(env.client, ns, "drift", { path: "./", targetNamespace: ns, interval: "2s" });
    await waitForReady(env.client, ns, "drift");
    await env.client.patch(core.configMaps, { namespace: ns, name: "drifty" }, { data: { a: "changed" } });
    await eventually(async () => {
      const cm = await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "drifty" });
      return cm?.data.a === "1";
    }, { what: "drift corrected", timeoutMs: 30_000 });
    const k: Kustomization = await waitForReady(env.client, ns, "drift");
    expectCurrent(k);
  });

  it("applies from a GitRepository in another namespace (allowed by default) and follows its new revisions", async () => {
    const sourceNs = await newNamespace("kz-xns-src");
    const ns = await newNamespace("kz-xns");
    const { fixture, commit } = await gitSource(env.client, sourceNs, { "app/cm.yaml": configMap("shared-config", { v: "1" }) }, "platform");
    await createKustomization(env.client, ns, "app", { sourceRef: { kind: "GitRepository", name: "platform", namespace: sourceNs }, path: "./app", targetNamespace: ns, interval: "1h" });
    const k = await waitForReady(env.client, ns, "app", { revisionSha: commit });
    expect(readyCondition(k)?.message).to.equal(`Applied revision: main@sha1:${commit}`);
    expect((await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "shared-config" }))?.data).to.deep.equal({ v: "1" });
    expect(await env.client.get(core.configMaps, { namespace: sourceNs, name: "shared-config" })).to.equal(undefined);
    const sha = await fixture.commitFiles({ "app/cm.yaml": configMap("shared-config", { v: "2" }) }, "v2");
    const t0 = Date.now();
    await requestReconcile(env.client, gitRepositories, sourceNs, "platform");
    // The interval is an hour: the watch on the other namespace's source triggers this.
    await waitForReady(env.client, ns, "app", { revisionSha: sha, timeoutMs: 30_000 });
    expect(Date.now() - t0).to.be.below(20_000);
    expect((await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "shared-config" }))?.data).to.deep.equal({ v: "2" });
  });
});
