// Kustomization spec.deletionPolicy, as Flux's spec defines it: MirrorPrune (the default)
// deletes the objects when prune is true and orphans them when false; Delete deletes them
// whatever prune says; Orphan keeps them whatever prune says; WaitForTermination deletes them
// and keeps the Kustomization until they are gone from the API server, giving up (with an
// error event) after spec.timeout.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import { Env, configMap, core, createKustomization, gitSource, kustomizations, sharedControllers, waitForReady } from "./support";

type Event = KubeObject & { reason: string; message: string; type: string; involvedObject: { name: string } };

const held = (name: string) => configMap(name, { v: "1" }, "  finalizers:\n    - example.com/hold\n");

describe("Kustomization: deletionPolicy", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const cm = (ns: string, name: string) => env.client.get<KubeObject>(core.configMaps, { namespace: ns, name });
  const gone = (ns: string, name: string) => eventually(async () => !(await env.client.get(kustomizations, { namespace: ns, name })), { what: `Kustomization ${name} gone`, timeoutMs: 30_000 });
  const release = (ns: string, name: string) => env.client.patch(core.configMaps, { namespace: ns, name }, { metadata: { finalizers: null } });

  it("deletes or keeps the objects per policy and prune when the Kustomization is deleted", async () => {
    const ns = await newNamespace("kz-delpol");
    const cases = [
      { name: "mirror-prune", prune: true, deletionPolicy: undefined, deleted: true },
      { name: "mirror-noprune", prune: false, deletionPolicy: undefined, deleted: false },
      { name: "explicit-mirror", prune: false, deletionPolicy: "MirrorPrune", deleted: false },
      { name: "delete-noprune", prune: false, deletionPolicy: "Delete", deleted: true },
      { name: "orphan-prune", prune: true, deletionPolicy: "Orphan", deleted: false },
    ] as const;
    await gitSource(env.client, ns, Object.fromEntries(cases.map((c) => [`${c.name}/cm.yaml`, configMap(`cm-${c.name}`, { v: "1" })])));
    for (const c of cases) {
      await createKustomization(env.client, ns, c.name, { path: `./${c.name}`, targetNamespace: ns, prune: c.prune, ...(c.deletionPolicy ? { deletionPolicy: c.deletionPolicy } : {}) });
    }
    for (const c of cases) await waitForReady(env.client, ns, c.name);
    for (const c of cases) expect(await cm(ns, `cm-${c.name}`), c.name).to.not.equal(undefined);
    for (const c of cases) await env.client.delete(kustomizations, { namespace: ns, name: c.name });
    for (const c of cases) await gone(ns, c.name);
    for (const c of cases.filter((x) => x.deleted)) {
      await eventually(async () => (await cm(ns, `cm-${c.name}`)) === undefined, { what: `ConfigMap of ${c.name} deleted` });
    }
    for (const c of cases.filter((x) => !x.deleted)) expect(await cm(ns, `cm-${c.name}`), `${c.name} orphans its objects`).to.not.equal(undefined);
    const events = await env.client.list<Event>(core.events, { namespace: ns });
    const deletedEvent = events.items.find((e) => e.involvedObject.name === "delete-noprune" && e.message.includes(`ConfigMap/${ns}/cm-delete-noprune deleted`));
    expect(deletedEvent, "the deletion is an event of the Kustomization").to.not.equal(undefined);
  });

  it("WaitForTermination keeps the Kustomization until its objects are gone", async () => {
    const ns = await newNamespace("kz-delwait");
    await gitSource(env.client, ns, { "app/held.yaml": held("held"), "app/free.yaml": configMap("free", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, prune: false, deletionPolicy: "WaitForTermination", timeout: "90s" });
    await waitForReady(env.client, ns, "app");
    await env.client.delete(kustomizations, { namespace: ns, name: "app" });
    // The objects are deleted (prune: false does not matter); the held one is terminating.
    await eventually(async () => (await cm(ns, "free")) === undefined, { what: "ConfigMap free deleted" });
    await eventually(async () => (await cm(ns, "held"))?.metadata?.deletionTimestamp, { what: "ConfigMap held terminating" });
    await new Promise((r) => setTimeout(r, 4000));
    const waiting = await env.client.get<KubeObject>(kustomizations, { namespace: ns, name: "app" });
    expect(waiting?.metadata?.deletionTimestamp, "the Kustomization waits for its objects").to.be.a("string");
    expect(waiting?.metadata?.finalizers).to.include("finalizers.fluxcd.io");
    const releasedAt = Date.now();
    await release(ns, "held");
    await gone(ns, "app");
    expect(Date.now() - releasedAt).to.be.below(20_000);
    expect(await cm(ns, "held")).to.equal(undefined);
  });

  it("WaitForTermination gives up after spec.timeout, with an error event, and lets the Kustomization go", async () => {
    const ns = await newNamespace("kz-delwait-to");
    await gitSource(env.client, ns, { "app/held.yaml": held("stuck") });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, deletionPolicy: "WaitForTermination", timeout: "3s" });
    await waitForReady(env.client, ns, "app");
    const t0 = Date.now();
    await env.client.delete(kustomizations, { namespace: ns, name: "app" });
    await gone(ns, "app");
    expect(Date.now() - t0, "waited about spec.timeout").to.be.at.least(2_500);
    expect((await cm(ns, "stuck"))?.metadata?.deletionTimestamp, "still held by its finalizer").to.be.a("string");
    const ev = await eventually(async () => (await env.client.list<Event>(core.events, { namespace: ns })).items
      .find((e) => e.involvedObject.name === "app" && e.message === "failed to wait for resources termination"), { what: "termination timeout event" });
    expect(ev.type).to.equal("Warning");
    await release(ns, "stuck");
  });
});
