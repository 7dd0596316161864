// The upstream flux CLI (v2.9.5) drives our Kustomizations: `flux get kustomizations`,
// `flux reconcile kustomization --with-source`, `flux suspend/resume kustomization` and
// `flux tree kustomization` (which reads the inventory).
import { expect } from "chai";
import { fluxCli } from "../../support/flux-cli";
import { newNamespace } from "../../support/cluster";
import { Env, configMap, core, createKustomization, getKustomization, gitSource, sharedControllers, waitForReady } from "./support";

describe("Kustomization: driven by the upstream flux CLI", function () {
  this.timeout(120_000);
  let env: Env;
  const flux = (...args: string[]): Promise<string> => fluxCli(env.kubeconfigPath)(...args);
  before(async () => { env = await sharedControllers(); });

  it("lists Kustomizations with revision, suspension and readiness (flux get kustomizations)", async () => {
    const ns = await newNamespace("kz-flux-get");
    const { commit } = await gitSource(env.client, ns, { "app/cm.yaml": configMap("a", { v: "1" }) });
    await createKustomization(env.client, ns, "podinfo", { path: "./app", targetNamespace: ns });
    await waitForReady(env.client, ns, "podinfo");
    const out = await flux("get", "kustomizations", "-n", ns);
    expect(out).to.match(/NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE/);
    const short = `main@sha1:${commit.slice(0, 8)}`;
    expect(out).to.match(new RegExp(`podinfo\\s+${short}\\s+False\\s+True\\s+Applied revision: ${short}`));
  });

  it("reconciles with the source on request and waits for the new revision (flux reconcile --with-source)", async () => {
    const ns = await newNamespace("kz-flux-rec");
    const { fixture } = await gitSource(env.client, ns, { "app/cm.yaml": configMap("a", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "1h" });
    await waitForReady(env.client, ns, "app");
    const sha = await fixture.commitFiles({ "app/cm.yaml": configMap("a", { v: "2" }) }, "bump");
    const out = await flux("reconcile", "kustomization", "app", "--with-source", "-n", ns);
    expect(out).to.contain(`applied revision main@sha1:${sha}`);
    const k = await getKustomization(env.client, ns, "app");
    expect(k.status?.lastHandledReconcileAt).to.equal(k.metadata.annotations?.["reconcile.fluxcd.io/requestedAt"]);
    const cm = await env.client.get<{ metadata?: object; data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "a" });
    expect(cm?.data?.v).to.equal("2");
  });

  it("suspends and resumes (flux suspend/resume kustomization)", async () => {
    const ns = await newNamespace("kz-flux-suspend");
    await gitSource(env.client, ns, { "app/cm.yaml": configMap("a", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "2s" });
    await waitForReady(env.client, ns, "app");
    await flux("suspend", "kustomization", "app", "-n", ns);
    expect((await getKustomization(env.client, ns, "app")).spec.suspend).to.equal(true);
    // Suspended: drift is left alone.
    await env.client.patch(core.configMaps, { namespace: ns, name: "a" }, { data: { v: "drifted" } });
    await new Promise((r) => setTimeout(r, 4000));
    const drifted = await env.client.get<{ metadata?: object; data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "a" });
    expect(drifted?.data?.v).to.equal("drifted");
    expect(await flux("get", "kustomizations", "-n", ns)).to.match(/app\s+\S+\s+True\s+/);
    const out = await flux("resume", "kustomization", "app", "-n", ns);
    expect(out).to.match(/applied revision main@sha1:/);
    const cm = await env.client.get<{ metadata?: object; data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "a" });
    expect(cm?.data?.v).to.equal("1");
  });

  it("shows the applied objects from the inventory (flux tree kustomization)", async () => {
    const ns = await newNamespace("kz-flux-tree");
    await gitSource(env.client, ns, { "app/a.yaml": configMap("a", { v: "1" }), "app/b.yaml": configMap("b", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns });
    await waitForReady(env.client, ns, "app");
    const out = await flux("tree", "kustomization", "app", "-n", ns);
    expect(out).to.contain(`Kustomization/${ns}/app`).and.contain(`ConfigMap/${ns}/a`).and.contain(`ConfigMap/${ns}/b`);
  });
});
