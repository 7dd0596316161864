import { expect } from "chai";
import { FLUX_FINALIZER, KubeClient, ResourceRef, addFinalizer, hasFinalizer, isDeleting, removeFinalizer } from "../../../controllers/runtime";
import { eventually, newNamespace } from "../../support/cluster";
import { Widget, widgetCrd } from "./widget-crd";

// finalizers.fluxcd.io is not a qualified name (no "/"): the API server accepts it on custom
// resources (with a warning) but rejects it on built-in kinds, as it does for Flux.
describe("runtime finalizers: finalizers.fluxcd.io on a custom resource", function () {
  let client: KubeClient;
  let widgets: ResourceRef;
  before(async function () {
    this.timeout(120000);
    ({ client, widgets } = await widgetCrd());
  });

  it("adds once, survives a stale copy, and removing it lets a deletion complete", async function () {
    const ns = await newNamespace("fin");
    const key = { namespace: ns, name: "w" };
    const obj = await client.create<Widget>(widgets, {
      apiVersion: `${widgets.group}/v1`, kind: "Widget", metadata: { name: "w", namespace: ns, finalizers: ["example.com/other"] },
    });
    const stale = structuredClone(obj);
    expect(await addFinalizer(client, widgets, obj)).to.equal(true);
    expect(await addFinalizer(client, widgets, obj)).to.equal(false);
    expect(hasFinalizer(obj)).to.equal(true);
    const got = (await client.get<Widget>(widgets, key))!;
    expect(got.metadata?.finalizers).to.deep.equal(["example.com/other", FLUX_FINALIZER]);
    expect(obj.metadata?.resourceVersion).to.equal(got.metadata?.resourceVersion);
    // A stale copy conflicts on its write, is re-read, and finds nothing left to do.
    expect(await addFinalizer(client, widgets, stale)).to.equal(false);
    expect(stale.metadata?.resourceVersion).to.equal(got.metadata?.resourceVersion);

    await client.delete(widgets, key);
    const deleting = (await client.get<Widget>(widgets, key))!;
    expect(isDeleting(deleting)).to.equal(true);
    expect(await removeFinalizer(client, widgets, deleting)).to.equal(true);
    expect((await client.get<Widget>(widgets, key))?.metadata?.finalizers).to.deep.equal(["example.com/other"]);
    expect(await removeFinalizer(client, widgets, deleting, "example.com/other")).to.equal(true);
    await eventually(async () => (await client.get(widgets, key)) === undefined, { what: "object gone" });
    expect(await removeFinalizer(client, widgets, deleting)).to.equal(false);
  });
});
