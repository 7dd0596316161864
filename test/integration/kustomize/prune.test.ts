// Kustomization prune: a new revision updates objects and deletes what left the inventory
// (reacting to the source at once, not at the interval); `prune: disabled` objects stay;
// deleting the Kustomization deletes its objects per deletionPolicy.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import {
  Env, configMap, core, createKustomization, expectCurrent, getKustomization, gitRepositories, gitSource, kustomizations,
  requestReconcile, sharedControllers, waitForReady,
} from "./support";

type CM = KubeObject & { data?: Record<string, string> };

describe("Kustomization: prune", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });
  const cm = (ns: string, name: string) => env.client.get<CM>(core.configMaps, { namespace: ns, name });

  it("updates changed objects and prunes removed ones when the source revision changes", async () => {
    const ns = await newNamespace("kz-prune");
    const { fixture } = await gitSource(env.client, ns, {
      "deploy/a.yaml": configMap("a", { v: "1" }),
      "deploy/b.yaml": configMap("b", { v: "1" }),
      "deploy/keep.yaml": configMap("keep", { v: "1" }, "  annotations:\n    kustomize.toolkit.fluxcd.io/prune: disabled\n"),
    });
    await createKustomization(env.client, ns, "app", { path: "./deploy", targetNamespace: ns, interval: "1h" });
    await waitForReady(env.client, ns, "app");
    const second = await fixture.commitFiles({ "deploy/a.yaml": configMap("a", { v: "2" }), "deploy/b.yaml": null, "deploy/keep.yaml": null, "deploy/c.yaml": configMap("c", { v: "1" }) }, "second");
    const t0 = Date.now();
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    const k = await waitForReady(env.client, ns, "app", { revisionSha: second, timeoutMs: 30_000 });
    // The interval is an hour: only the source watch can have triggered this.
    expect(Date.now() - t0).to.be.below(20_000);
    expect((await cm(ns, "a"))?.data).to.deep.equal({ v: "2" });
    expect(await cm(ns, "b")).to.equal(undefined);
    expect(await cm(ns, "c")).to.not.equal(undefined);
    expect(await cm(ns, "keep"), "prune: disabled keeps the object").to.not.equal(undefined);
    expect(k.status?.inventory?.entries.map((e) => e.id).sort()).to.deep.equal([`${ns}_a__ConfigMap`, `${ns}_c__ConfigMap`]);
    const events = await env.client.list<KubeObject & { message: string }>(core.events, { namespace: ns });
    expect(events.items.some((e) => e.message.includes(`ConfigMap/${ns}/b deleted`))).to.equal(true);
    expectCurrent(k);
  });

  it("keeps objects that left the source when prune is false", async () => {
    const ns = await newNamespace("kz-noprune");
    const { fixture } = await gitSource(env.client, ns, { "a.yaml": configMap("a", { v: "1" }), "b.yaml": configMap("b", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./", targetNamespace: ns, prune: false });
    await waitForReady(env.client, ns, "app");
    const sha = await fixture.commitFiles({ "b.yaml": null }, "drop b");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    await waitForReady(env.client, ns, "app", { revisionSha: sha });
    expect(await cm(ns, "b")).to.not.equal(undefined);
  });

  it("never deletes an object another Kustomization has taken over", async () => {
    const ns = await newNamespace("kz-takeover");
    const { fixture } = await gitSource(env.client, ns, { "one/shared.yaml": configMap("shared", { v: "1" }), "two/.keep": "" });
    await createKustomization(env.client, ns, "one", { path: "./one", targetNamespace: ns });
    await waitForReady(env.client, ns, "one");
    // "one" sees the move only after "two" has taken the object over.
    await env.client.patch(kustomizations, { namespace: ns, name: "one" }, { spec: { suspend: true } });
    const sha = await fixture.commitFiles({ "two/shared.yaml": configMap("shared", { v: "2" }), "one/shared.yaml": null, "one/other.yaml": configMap("other", { v: "1" }) }, "move");
    await requestReconcile(env.client, gitRepositories, ns, "repo");
    await createKustomization(env.client, ns, "two", { path: "./two", targetNamespace: ns });
    await waitForReady(env.client, ns, "two", { revisionSha: sha });
    await env.client.patch(kustomizations, { namespace: ns, name: "one" }, { spec: { suspend: false } });
    await waitForReady(env.client, ns, "one", { revisionSha: sha });
    const shared = await cm(ns, "shared");
    expect(shared?.metadata?.labels?.["kustomize.toolkit.fluxcd.io/name"]).to.equal("two");
  });

  it("deletes the objects with the Kustomization (MirrorPrune) and orphans them with Orphan", async () => {
    const ns = await newNamespace("kz-delete");
    await gitSource(env.client, ns, { "a/cm.yaml": configMap("a", { v: "1" }), "b/cm.yaml": configMap("b", { v: "1" }) });
    await createKustomization(env.client, ns, "mirror", { path: "./a", targetNamespace: ns });
    await createKustomization(env.client, ns, "orphan", { path: "./b", targetNamespace: ns, deletionPolicy: "Orphan" });
    await waitForReady(env.client, ns, "mirror");
    await waitForReady(env.client, ns, "orphan");
    await env.client.delete(kustomizations, { namespace: ns, name: "mirror" });
    await env.client.delete(kustomizations, { namespace: ns, name: "orphan" });
    await eventually(async () => !(await env.client.get(kustomizations, { namespace: ns, name: "mirror" })) && !(await env.client.get(kustomizations, { namespace: ns, name: "orphan" })), { what: "Kustomizations gone" });
    await eventually(async () => (await cm(ns, "a")) === undefined, { what: "ConfigMap a deleted" });
    expect(await cm(ns, "b")).to.not.equal(undefined);
    await getKustomization(env.client, ns, "mirror").then(() => expect.fail("still there"), () => undefined);
  });
});
