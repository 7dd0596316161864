// Kustomization dependsOn: a dependent waits (DependencyNotReady) until its dependency is
// Ready at the source's current revision, then applies; a dependency that never becomes
// Ready keeps it waiting with a message naming the dependency.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import {
  Env, configMap, core, createKustomization, expectCurrent, getKustomization, gitSource, kustomizations, readyCondition, sharedControllers, waitForReady,
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
});
