import { expect } from "chai";
import { KubeClient, ResourceRef, deepClone, getCondition, markFalse, markTrue, patchStatus } from "../../../controllers/runtime";
import { newNamespace } from "../../support/cluster";
import { Widget, widgetCrd } from "./widget-crd";

describe("runtime patchStatus: one status write per reconcile", function () {
  let client: KubeClient;
  let widgets: ResourceRef;
  before(async function () {
    this.timeout(120000);
    ({ client, widgets } = await widgetCrd());
  });

  async function fresh(ns: string, name = "w"): Promise<Widget> {
    await client.create<Widget>(widgets, { apiVersion: `${widgets.group}/v1`, kind: "Widget", metadata: { name, namespace: ns }, spec: { size: 1 } });
    return (await client.get<Widget>(widgets, { namespace: ns, name }))!;
  }

  it("writes the changed status through /status and leaves spec alone", async function () {
    const ns = await newNamespace("status");
    const obj = await fresh(ns);
    const before = deepClone(obj);
    markTrue(obj, "Ready", "Succeeded", "all good");
    obj.status!.observedGeneration = 1;
    obj.spec!.size = 99;
    const written = await patchStatus(client, widgets, before, obj, { fieldManager: "runtime-test" });
    expect(getCondition(written!, "Ready")?.reason).to.equal("Succeeded");
    const got = (await client.get<Widget>(widgets, { namespace: ns, name: "w" }))!;
    expect(got.status?.observedGeneration).to.equal(1);
    expect(got.spec?.size).to.equal(1);
    expect(obj.metadata?.resourceVersion).to.equal(got.metadata?.resourceVersion);
    const managers = ((got.metadata as Record<string, unknown>).managedFields as Array<{ manager: string; subresource?: string }>).filter((m) => m.subresource === "status");
    expect(managers.map((m) => m.manager)).to.include("runtime-test");
  });

  it("sends nothing when the status did not change", async function () {
    const ns = await newNamespace("status");
    const obj = await fresh(ns);
    const rv = obj.metadata?.resourceVersion;
    const result = await patchStatus(client, widgets, deepClone(obj), obj);
    expect(result).to.equal(obj);
    expect((await client.get<Widget>(widgets, { namespace: ns, name: "w" }))?.metadata?.resourceVersion).to.equal(rv);
  });

  it("on conflict re-reads and re-applies only its changes, keeping what others wrote", async function () {
    const ns = await newNamespace("status");
    const obj = await fresh(ns);
    const before = deepClone(obj);
    // Someone else writes a condition and a field after we read.
    const other = deepClone(obj);
    markTrue(other, "Healthy", "Checked", "by someone else");
    other.status!.phase = "Elsewhere";
    await patchStatus(client, widgets, before, other);
    // Our reconcile, from the stale read.
    markFalse(obj, "Ready", "BuildFailed", "no source");
    const written = await patchStatus(client, widgets, before, obj);
    expect(written?.status?.conditions?.map((c) => `${c.type}=${c.status}`).sort()).to.deep.equal(["Healthy=True", "Ready=False"]);
    expect(written?.status?.phase).to.equal("Elsewhere");
  });

  it("ignores an object that is gone", async function () {
    const ns = await newNamespace("status");
    const obj = await fresh(ns);
    const before = deepClone(obj);
    await client.delete(widgets, { namespace: ns, name: "w" });
    markTrue(obj, "Ready", "Succeeded");
    expect(await patchStatus(client, widgets, before, obj)).to.equal(undefined);
  });
});
