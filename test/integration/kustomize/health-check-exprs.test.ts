// Kustomization spec.healthCheckExprs: CEL expressions (`inProgress`, `failed`, `current`, in
// that order, over the object's top-level fields) give the health of the custom resources of a
// kind, in place of kstatus, for `wait` and `healthChecks`; an entry that does not compile
// stalls the Kustomization (InvalidCELExpression).
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, createKustomization, expectCurrent, gitSource, kustomizations, readyCondition, requestReconcile, sharedControllers, waitForReady,
  schemalessCrd,
} from "./support";

const group = "celhealth.example.com";
const { yaml: crd, res: widgets } = schemalessCrd(group, "Widget");
const widget = (name: string) => `apiVersion: ${group}/v1\nkind: Widget\nmetadata:\n  name: ${name}\nspec: { size: 1 }\n`;
// The expressions of Flux's SealedSecret example, on a `Synced` condition.
const exprs = [{
  apiVersion: `${group}/v1`, kind: "Widget",
  failed: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'False')",
  current: "status.conditions.filter(e, e.type == 'Synced').all(e, e.status == 'True')",
}];
const synced = (status: "True" | "False") => ({ status: { conditions: [
  { type: "Synced", status, reason: "Test", message: "synced" },
  // kstatus alone would call this InProgress: the expressions decide instead.
  { type: "Ready", status: "False", reason: "Test", message: "not what counts here" },
] } });

type Cond = { type: string; status: string; reason: string; message: string };

describe("Kustomization: healthCheckExprs", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  async function installCrd(ns: string): Promise<void> {
    await createKustomization(env.client, ns, "crds", { path: "./crd", targetNamespace: ns });
    await waitForReady(env.client, ns, "crds");
  }

  async function healthInProgress(ns: string, name: string): Promise<void> {
    await eventually(async () => {
      const k = await env.client.get<{ metadata?: object; status?: { conditions?: Cond[] } }>(kustomizations, { namespace: ns, name });
      return k?.status?.conditions?.some((c) => c.type === "Healthy" && c.status === "Unknown" && c.reason === "Progressing");
    }, { what: "health check in progress" });
  }

  it("waits (wait: true) until the current expression holds for every object of the kind", async () => {
    const ns = await newNamespace("kz-cel-health");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd, "app/widget.yaml": widget("w1") });
    await installCrd(ns);
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, wait: true, timeout: "45s", healthCheckExprs: exprs });
    // No status yet: `status` is missing, the expressions cannot be evaluated, the wait goes on.
    await healthInProgress(ns, "app");
    await new Promise((r) => setTimeout(r, 2000));
    expect(readyCondition(await env.client.get(kustomizations, { namespace: ns, name: "app" }) as never)?.status).to.not.equal("True");
    await env.client.patchStatus(widgets, { namespace: ns, name: "w1" }, synced("True"));
    const k = await waitForReady(env.client, ns, "app", { timeoutMs: 45_000 });
    expect(k.status?.conditions?.find((c) => c.type === "Healthy")).to.include({ status: "True", reason: "Succeeded" });
    expectCurrent(k);
  });

  it("fails early when the failed expression holds (healthChecks), naming the object", async () => {
    const ns = await newNamespace("kz-cel-failed");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd, "app/widget.yaml": widget("w2") });
    await installCrd(ns);
    // A group-only entry (no kind) covers the Widget too; the kind entry takes precedence.
    const withGroupEntry = [...exprs, { apiVersion: `${group}/v1`, current: "false" }];
    await createKustomization(env.client, ns, "app", {
      path: "./app", targetNamespace: ns, timeout: "60s", healthCheckExprs: withGroupEntry,
      healthChecks: [{ apiVersion: `${group}/v1`, kind: "Widget", name: "w2", namespace: ns }],
    });
    await healthInProgress(ns, "app");
    await env.client.patchStatus(widgets, { namespace: ns, name: "w2" }, synced("False"));
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "HealthCheckFailed", timeoutMs: 30_000 });
    expect(readyCondition(k)?.message).to.match(new RegExp(`^health check failed after [0-9.]+m?s: failed early due to stalled resources: \\[Widget/${ns}/w2 status: 'Failed'\\]$`));
    // Fixed on the object: the retry passes.
    await env.client.patchStatus(widgets, { namespace: ns, name: "w2" }, synced("True"));
    await requestReconcile(env.client, kustomizations, ns, "app");
    expectCurrent(await waitForReady(env.client, ns, "app", { timeoutMs: 45_000 }));
  });

  it("times out naming the evaluation error of an expression over a missing field", async () => {
    const ns = await newNamespace("kz-cel-timeout");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd, "app/widget.yaml": widget("w3") });
    await installCrd(ns);
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, wait: true, timeout: "3s", retryInterval: "1m", healthCheckExprs: exprs });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "HealthCheckFailed", timeoutMs: 30_000 });
    expect(readyCondition(k)?.message).to.include(`timeout waiting for: [can't determine status for Widget/${ns}/w3: failed to evaluate the CEL expression '${exprs[0].failed}': no such attribute: status]`);
  });

  it("stalls on an entry that does not compile, naming it", async () => {
    const ns = await newNamespace("kz-cel-invalid");
    await gitSource(env.client, ns, { "crd/crd.yaml": crd });
    await createKustomization(env.client, ns, "app", {
      path: "./crd", targetNamespace: ns, wait: true,
      healthCheckExprs: [exprs[0], { apiVersion: "example.com/v1", kind: "Thing", current: "status.phase == 'Ready' &&" }],
    });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "InvalidCELExpression" });
    expect(readyCondition(k)?.message).to.equal("Reconciliation failed terminally due to configuration error: failed to create custom status evaluator for healthchecks[1]: "
      + "failed to parse the expression Current: failed to parse the CEL expression 'status.phase == 'Ready' &&': unexpected end of expression");
    expect(k.status?.conditions?.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "InvalidCELExpression" });
    expect(k.status?.inventory, "nothing applied").to.equal(undefined);
  });
});
