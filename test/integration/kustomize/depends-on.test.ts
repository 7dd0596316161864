// Kustomization dependsOn: a dependent waits (DependencyNotReady) until its dependency is
// Ready at the source's current revision, then applies; a dependency that never becomes
// Ready keeps it waiting with a message naming the dependency; a dependency that is Ready
// but still at an older revision of the shared source holds the dependent back until it
// has applied the new one.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { KubeObject } from "../../../controllers/runtime/keys";
import {
  Env, INSTANCE_LABEL, configMap, core, createKustomization, expectCurrent, getKustomization, gitRepositories, gitSource, kustomizations,
  readyCondition, requestReconcile, sharedControllers, startControllers, waitForReady,
} from "./support";

describe("Kustomization: dependsOn", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("applies a dependent only after its dependency is Ready", async () => {
    const ns = await newNamespace("kz-deps");
    const { commit } = await gitSource(env.client, ns, {
      "infra/ns-config.yaml": configMap("infra", { ready: "yes" }),
      "apps/app.yaml": configMap("app", { v: "1" }),
    });
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "infra" }] });
    const waiting = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady" });
    expect(readyCondition(waiting)?.message).to.equal(`dependency '${ns}/infra' not found: kustomizations.kustomize.toolkit.fluxcd.io "infra" not found`);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "app" })).to.equal(undefined);
    expect(waiting.status?.observedGeneration, "not observed while waiting").to.equal(-1);

    await createKustomization(env.client, ns, "infra", { path: "./infra", targetNamespace: ns });
    const infra = await waitForReady(env.client, ns, "infra", { revisionSha: commit });
    const apps = await waitForReady(env.client, ns, "apps", { revisionSha: commit, timeoutMs: 20_000 });
    const infraReadyAt = Date.parse(readyCondition(infra)!.lastTransitionTime);
    const appsReadyAt = Date.parse(readyCondition(apps)!.lastTransitionTime);
    expect(appsReadyAt).to.be.at.least(infraReadyAt);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "app" })).to.not.equal(undefined);
    expectCurrent(apps);
  });

  it("keeps waiting while a dependency is not Ready, naming it", async () => {
    const ns = await newNamespace("kz-deps-bad");
    await gitSource(env.client, ns, { "apps/app.yaml": configMap("app", { v: "1" }), "broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [1]\n" });
    await createKustomization(env.client, ns, "broken", { path: "./broken", targetNamespace: ns });
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "broken", namespace: ns }] });
    await waitForReady(env.client, ns, "broken", { status: "False" });
    const k = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady" });
    expect(readyCondition(k)?.message).to.equal(`dependency '${ns}/broken' is not ready`);
    await new Promise((r) => setTimeout(r, 3000));
    expect(readyCondition(await getKustomization(env.client, ns, "apps"))?.reason).to.equal("DependencyNotReady");
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "app" })).to.equal(undefined);
    // Fix the dependency: the dependent follows.
    await env.client.patch(kustomizations, { namespace: ns, name: "broken" }, { spec: { path: "./apps", nameSuffix: "-x" } });
    await waitForReady(env.client, ns, "apps", { timeoutMs: 30_000 });
  });

  it("waits while the dependency is Ready at an older revision of the same source, until it catches up", async () => {
    const ns = await newNamespace("kz-deps-rev");
    // The dependency is reconciled by its own controller instance, stopped while the source
    // moves: it stays Ready (at its generation) with the old revision applied.
    const instance = `kz-deps-rev-${ns.slice(-5)}`;
    const labels = { [INSTANCE_LABEL]: instance };
    const infraCtl = await startControllers({ instance, withSource: false });
    const { fixture, commit } = await gitSource(env.client, ns, { "infra/cm.yaml": configMap("infra", { v: "1" }), "apps/cm.yaml": configMap("app", { v: "1" }) });
    await createKustomization(env.client, ns, "infra", { path: "./infra", targetNamespace: ns }, labels);
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "infra" }] });
    await waitForReady(env.client, ns, "infra", { revisionSha: commit });
    await waitForReady(env.client, ns, "apps", { revisionSha: commit, timeoutMs: 20_000 });
    await infraCtl.manager.stop();

    const sha = await fixture.commitFiles({ "infra/cm.yaml": configMap("infra", { v: "2" }), "apps/cm.yaml": configMap("app", { v: "2" }) }, "v2");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const waiting = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady", timeoutMs: 30_000 });
    expect(readyCondition(waiting)?.message).to.equal(`dependency '${ns}/infra' revision is not up to date`);
    const infra = await getKustomization(env.client, ns, "infra");
    expect(readyCondition(infra)?.status, "the dependency itself is still Ready").to.equal("True");
    expect(infra.status?.lastAppliedRevision).to.equal(`main@sha1:${commit}`);
    expect(waiting.status?.lastAppliedRevision).to.equal(`main@sha1:${commit}`);
    const cmV = async (name: string) => (await env.client.get<KubeObject & { data?: Record<string, string> }>(core.configMaps, { namespace: ns, name }))?.data?.v;
    await eventually(async () => (await env.client.list<KubeObject & { message: string; involvedObject: { name: string } }>(core.events, { namespace: ns })).items
      .some((e) => e.involvedObject.name === "apps" && e.message === "Dependencies do not meet ready condition, retrying in 2s"), { what: "dependency event" });
    // Several dependency requeues later it still waits, with nothing of the new revision applied.
    await new Promise((r) => setTimeout(r, 5000));
    const still = await getKustomization(env.client, ns, "apps");
    expect(readyCondition(still)).to.include({ reason: "DependencyNotReady", message: `dependency '${ns}/infra' revision is not up to date` });
    expect(await cmV("app")).to.equal("1");

    // The dependency's controller is back: it applies the new revision, then the dependent does.
    await startControllers({ instance, withSource: false });
    await waitForReady(env.client, ns, "infra", { revisionSha: sha, timeoutMs: 30_000 });
    const apps = await waitForReady(env.client, ns, "apps", { revisionSha: sha, timeoutMs: 30_000 });
    expect(await cmV("infra")).to.equal("2");
    expect(await cmV("app")).to.equal("2");
    expectCurrent(apps);
  });
});
