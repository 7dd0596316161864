// Kustomization dependsOn[].readyExpr: a CEL expression over `self` (the dependent) and `dep`
// (the dependency) decides readiness in place of the built-in check (Ready at the latest
// generation, same source revision); false or an evaluation error keeps the dependent waiting
// (DependencyNotReady, retried), an expression that does not compile (or is not a bool) stalls
// it with InvalidCELExpression until the spec is fixed. With the AdditiveCELDependencyCheck
// feature gate, the built-in check applies as well.
import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import {
  Env, INSTANCE_LABEL, configMap, core, createKustomization, expectCurrent, getKustomization, gitSource, kustomizations, readyCondition, sharedControllers,
  startControllers, waitForReady,
} from "./support";

const TERMINAL = "Reconciliation failed terminally due to configuration error";

describe("Kustomization: dependsOn readyExpr", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("waits until the readyExpr of Flux's lockstep example holds, then applies", async () => {
    const ns = await newNamespace("kz-readyexpr");
    await gitSource(env.client, ns, { "backend/cm.yaml": configMap("backend", { v: "1" }), "frontend/cm.yaml": configMap("frontend", { v: "1" }) });
    await createKustomization(env.client, ns, "app-backend", { path: "./backend", targetNamespace: ns }, { "app/version": "v1.2.3" });
    const readyExpr = `dep.metadata.labels['app/version'] == self.metadata.labels['app/version'] &&
dep.status.conditions.filter(e, e.type == 'Ready').all(e, e.status == 'True') &&
dep.metadata.generation == dep.status.observedGeneration
`;
    await createKustomization(env.client, ns, "app-frontend", { path: "./frontend", targetNamespace: ns, dependsOn: [{ name: "app-backend", readyExpr }] },
      { "app/version": "v1.2.4" });
    await waitForReady(env.client, ns, "app-backend");
    const waiting = await waitForReady(env.client, ns, "app-frontend", { status: "False", reason: "DependencyNotReady" });
    expect(readyCondition(waiting)?.message).to.equal(`dependency '${ns}/app-backend' is not ready according to readyExpr eval`);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "frontend" })).to.equal(undefined);

    // The backend catches up with the version: the next dependency retry (2s) applies the frontend.
    await env.client.patch(kustomizations, { namespace: ns, name: "app-backend" }, { metadata: { labels: { "app/version": "v1.2.4" } } });
    const k = await waitForReady(env.client, ns, "app-frontend", { timeoutMs: 30_000 });
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "frontend" })).to.not.equal(undefined);
    expectCurrent(k);
  });

  it("replaces the built-in Ready check: a dependency that is not Ready passes when its readyExpr holds", async () => {
    const ns = await newNamespace("kz-readyexpr-replace");
    await gitSource(env.client, ns, { "apps/cm.yaml": configMap("app", { v: "1" }), "broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [1]\n" });
    await createKustomization(env.client, ns, "broken", { path: "./broken", targetNamespace: ns });
    await waitForReady(env.client, ns, "broken", { status: "False" });
    await createKustomization(env.client, ns, "apps", {
      path: "./apps", targetNamespace: ns,
      dependsOn: [{ name: "broken", readyExpr: "dep.spec.path == './broken' && dep.status.conditions.exists(c, c.type == 'Ready' && c.status == 'False')" }],
    });
    expectCurrent(await waitForReady(env.client, ns, "apps", { timeoutMs: 30_000 }));
    expect(readyCondition(await getKustomization(env.client, ns, "broken"))?.status, "the dependency is still not Ready").to.equal("False");
  });

  it("with AdditiveCELDependencyCheck, also applies the built-in check", async () => {
    const ns = await newNamespace("kz-readyexpr-additive");
    const instance = `kz-additive-${ns.slice(-5)}`;
    await startControllers({ instance, withSource: false, kustomize: { featureGates: { AdditiveCELDependencyCheck: true } } });
    await gitSource(env.client, ns, { "apps/cm.yaml": configMap("app", { v: "1" }), "broken/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata: [1]\n" });
    await createKustomization(env.client, ns, "broken", { path: "./broken", targetNamespace: ns });
    await waitForReady(env.client, ns, "broken", { status: "False" });
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "broken", readyExpr: "dep.metadata.name == 'broken'" }] },
      { [INSTANCE_LABEL]: instance });
    const k = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady" });
    expect(readyCondition(k)?.message, "the expression holds, the Ready check does not").to.equal(`dependency '${ns}/broken' is not ready`);
    // A false expression is reported first.
    await env.client.patch(kustomizations, { namespace: ns, name: "apps" }, { spec: { dependsOn: [{ name: "broken", readyExpr: "dep.metadata.name == 'other'" }] } });
    const k2 = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady", message: /readyExpr eval/ });
    expect(readyCondition(k2)?.message).to.equal(`dependency '${ns}/broken' is not ready according to readyExpr eval`);
  });

  it("keeps waiting on an expression that fails to evaluate, naming the error", async () => {
    const ns = await newNamespace("kz-readyexpr-eval");
    await gitSource(env.client, ns, { "apps/cm.yaml": configMap("app", { v: "1" }) });
    await createKustomization(env.client, ns, "infra", { path: "./apps", targetNamespace: ns, nameSuffix: "-infra" });
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "infra", readyExpr: "dep.status.release == 'v2'" }] });
    const k = await waitForReady(env.client, ns, "apps", { status: "False", reason: "DependencyNotReady", message: /no such key: release/ });
    expect(readyCondition(k)?.message).to.equal("failed to evaluate the CEL expression 'dep.status.release == 'v2'': no such key: release");
    expect(k.status?.conditions?.find((c) => c.type === "Stalled"), "retried, not stalled").to.equal(undefined);
  });

  it("stalls on an expression that does not compile or is not a bool, and recovers when fixed", async () => {
    const ns = await newNamespace("kz-readyexpr-bad");
    await gitSource(env.client, ns, { "apps/cm.yaml": configMap("app", { v: "1" }) });
    await createKustomization(env.client, ns, "infra", { path: "./apps", targetNamespace: ns, nameSuffix: "-infra" });
    await createKustomization(env.client, ns, "apps", { path: "./apps", targetNamespace: ns, dependsOn: [{ name: "infra", readyExpr: "dep.status.conditions.all(c, c.status == 'True'" }] });
    let k = await waitForReady(env.client, ns, "apps", { status: "False", reason: "InvalidCELExpression" });
    expect(readyCondition(k)?.message).to.equal(`${TERMINAL}: failed to evaluate dependency infra: failed to parse the CEL expression 'dep.status.conditions.all(c, c.status == 'True'': expected ')' at the end`);
    expect(k.status?.conditions?.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "InvalidCELExpression" });

    await env.client.patch(kustomizations, { namespace: ns, name: "apps" }, { spec: { dependsOn: [{ name: "infra", readyExpr: "dep.metadata.name" }] } });
    k = await waitForReady(env.client, ns, "apps", { status: "False", reason: "InvalidCELExpression" });
    expect(readyCondition(k)?.message).to.equal(`${TERMINAL}: failed to evaluate dependency infra: failed to parse the CEL expression 'dep.metadata.name': CEL expression output type mismatch: expected bool, got dyn`);

    await env.client.patch(kustomizations, { namespace: ns, name: "apps" }, { spec: { dependsOn: [{ name: "infra", readyExpr: "dep.metadata.name == 'infra'" }] } });
    expectCurrent(await waitForReady(env.client, ns, "apps", { timeoutMs: 30_000 }));
  });
});
