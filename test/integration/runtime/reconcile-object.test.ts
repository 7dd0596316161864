import { expect } from "chai";
import {
  FLUX_FINALIZER, KubeClient, Manager, RECONCILE_REQUESTED_AT, ResourceRef, Result, createLogger, getCondition, isReady, markFalse,
  markTrue, reconcileObject, requeueAtInterval,
} from "../../../controllers/runtime";
import { eventually, getCluster, newNamespace } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";
import { Widget, widgetCrd } from "./widget-crd";

describe("runtime reconcileObject: the standard reconcile order on a custom resource", function () {
  let client: KubeClient;
  let widgets: ResourceRef & { kind: string };
  let manager: Manager;
  let ns: string;
  const finalized: string[] = [];

  before(async function () {
    this.timeout(120000);
    ({ client, widgets } = await widgetCrd());
    ns = await newNamespace("order");
    manager = new Manager({
      name: "widget-controller", kubeConfig: (await getCluster()).kc, handleSignals: false,
      flags: { metricsAddr: "127.0.0.1:0", healthAddr: "", watchAllNamespaces: false }, runtimeNamespace: ns,
      logger: createLogger({ level: "silent" }),
    });
    manager.add<Widget>({
      name: "widget", kind: widgets,
      reconcile: (key, ctx) => reconcileObject<Widget>(key, ctx, {
        fieldManager: "widget-controller",
        reconcile: async (obj) => {
          if ((obj.spec?.size ?? 0) < 0) {
            markFalse(obj, "Ready", "InvalidSize", `spec.size must not be negative, got ${obj.spec?.size}`);
            return Result.terminal(new Error("negative size"));
          }
          markTrue(obj, "Ready", "Succeeded", `size ${obj.spec?.size}`);
          return requeueAtInterval("1h", ctx.intervalJitter);
        },
        finalize: async (obj) => { finalized.push(obj.metadata!.name!); return Result.done(); },
      }),
    });
    onTeardown(() => manager.stop());
    await manager.start();
  });

  const key = (name: string) => ({ namespace: ns, name });
  const get = (name: string): Promise<Widget | undefined> => client.get<Widget>(widgets, key(name));
  const create = (name: string, size: number): Promise<Widget> =>
    client.create<Widget>(widgets, { apiVersion: `${widgets.group}/v1`, kind: "Widget", metadata: { name, namespace: ns }, spec: { size } });

  it("adds the finalizer, sets Ready and stamps observedGeneration", async function () {
    await create("ok", 1);
    const w = await eventually(async () => { const o = await get("ok"); return o && isReady(o) && o; }, { what: "Ready" });
    expect(w.metadata?.finalizers).to.deep.equal([FLUX_FINALIZER]);
    expect(w.status?.observedGeneration).to.equal(1);
    expect(getCondition(w, "Ready")).to.deep.include({ reason: "Succeeded", message: "size 1", observedGeneration: 1 });
  });

  it("records a handled reconcile request in lastHandledReconcileAt", async function () {
    await create("requested", 1);
    await eventually(async () => { const o = await get("requested"); return o && isReady(o); }, { what: "Ready" });
    await client.patch(widgets, key("requested"), { metadata: { annotations: { [RECONCILE_REQUESTED_AT]: "2026-05-01T10:00:00.0Z" } } });
    await eventually(async () => (await get("requested"))?.status?.lastHandledReconcileAt === "2026-05-01T10:00:00.0Z", { what: "lastHandledReconcileAt" });
  });

  it("reads the object from the watch cache once it holds the controller's last write (no GET per reconcile)", async function () {
    // Counts the controller's own GETs of this object (its real client, against the real API server).
    const reads: string[] = [];
    const realGet = manager.client.get.bind(manager.client);
    manager.client.get = (async (res: ResourceRef, k: { namespace: string; name: string }, o?: { signal?: AbortSignal }) => {
      if (res.plural === widgets.plural && k.name === "cached") reads.push(k.name);
      return realGet(res, k, o);
    }) as typeof manager.client.get;
    onTeardown(() => { manager.client.get = realGet; });
    await create("cached", 1);
    await eventually(async () => { const o = await get("cached"); return o && isReady(o); }, { what: "Ready" });
    const written = manager.client.lastWrittenVersion(widgets, key("cached"));
    expect(written, "the status write was recorded").to.be.a("string");
    // Once the watch has delivered that write, requested reconciles read the cache: no GET.
    await eventually(async () => manager.runner("widget")!.cache.get(key("cached"))?.metadata?.resourceVersion === written, { what: "cache caught up" });
    reads.length = 0;
    for (let i = 0; i < 3; i++) {
      const at = `2026-05-01T10:00:0${i}.0Z`;
      await client.patch(widgets, key("cached"), { metadata: { annotations: { [RECONCILE_REQUESTED_AT]: at } } });
      await eventually(async () => (await get("cached"))?.status?.lastHandledReconcileAt === at, { what: `request ${i} handled` });
    }
    expect(reads, "GETs of the object in 3 reconciles").to.deep.equal([]);
    expect(manager.client.lastWrittenVersion(widgets, key("cached"))).to.not.equal(written);
  });

  it("reports a failure as Ready=False and does not move observedGeneration", async function () {
    await create("bad", 1);
    await eventually(async () => { const o = await get("bad"); return o && isReady(o); }, { what: "Ready" });
    await client.patch(widgets, key("bad"), { spec: { size: -1 } });
    const w = await eventually(async () => { const o = await get("bad"); return getCondition(o ?? {}, "Ready")?.status === "False" && o; }, { what: "Ready=False" });
    expect(getCondition(w, "Ready")).to.deep.include({ reason: "InvalidSize", observedGeneration: 2 });
    expect(w.status?.observedGeneration).to.equal(1);
    expect(isReady(w)).to.equal(false);
  });

  it("skips a suspended object", async function () {
    await create("paused", 1);
    await eventually(async () => { const o = await get("paused"); return o && isReady(o); }, { what: "Ready" });
    await client.patch(widgets, key("paused"), { spec: { suspend: true, size: 5 } });
    const metrics = `http://127.0.0.1:${manager.ports[0]}/metrics`;
    await eventually(async () => /gotk_suspend_status\{kind="Widget",name="paused",namespace="[^"]+"\} 1/.test(await (await fetch(metrics)).text()), { what: "suspend metric" });
    // As Flux: the steps do not run (Ready still describes size 1), but the status patch
    // records the suspended generation as observed.
    const w = await eventually(async () => { const o = await get("paused"); return o?.status?.observedGeneration === 2 ? o : undefined; }, { what: "suspended generation observed" });
    expect(getCondition(w, "Ready")?.message).to.equal("size 1");
  });

  it("does not mark a suspended failure as observed", async function () {
    await create("paused-bad", 1);
    await eventually(async () => { const o = await get("paused-bad"); return o && isReady(o); }, { what: "Ready" });
    await client.patch(widgets, key("paused-bad"), { spec: { size: -1 } });
    await eventually(async () => getCondition((await get("paused-bad")) ?? {}, "Ready")?.status === "False", { what: "Ready=False" });
    await client.patch(widgets, key("paused-bad"), { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "while-failed" } }, spec: { suspend: true } });
    // The suspended reconcile ran (it handled the request), and, as Flux's kustomize- and
    // helm-controller, left observedGeneration where the last success put it.
    const w = await eventually(async () => { const o = await get("paused-bad"); return o?.status?.lastHandledReconcileAt === "while-failed" ? o : undefined; }, { what: "request handled while suspended" });
    expect(w.metadata?.generation).to.equal(3);
    expect(w.status?.observedGeneration).to.equal(1);
    expect(getCondition(w, "Ready")?.reason).to.equal("InvalidSize");
  });

  it("runs finalize on deletion, then removes the finalizer so the object goes", async function () {
    await create("doomed", 1);
    await eventually(async () => (await get("doomed"))?.metadata?.finalizers?.includes(FLUX_FINALIZER), { what: "finalizer" });
    await client.delete(widgets, key("doomed"));
    await eventually(async () => (await get("doomed")) === undefined, { what: "object deleted" });
    expect(finalized).to.deep.equal(["doomed"]);
  });
});
