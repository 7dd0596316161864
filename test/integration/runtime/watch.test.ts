import { expect } from "chai";
import { KubeClient, KubeObject, ResourceRef, WatchEvent, Watcher, isNotFound } from "../../../controllers/runtime";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";

const configMaps: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
type ConfigMap = KubeObject & { data?: Record<string, string> };
// Every namespace gets a kube-root-ca.crt ConfigMap; the selector leaves it out.
const LABEL = "runtime-test";
const selector = `${LABEL}=watch`;

describe("runtime Watcher: list-then-watch of ConfigMaps", function () {
  let client: KubeClient;

  before(async function () {
    this.timeout(120000);
    const { kc } = await getCluster();
    client = KubeClient.fromKubeConfig(kc, { qps: 0 });
  });

  const create = (ns: string, name: string, data: Record<string, string> = {}): Promise<ConfigMap> =>
    client.create<ConfigMap>(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: { [LABEL]: "watch" } }, data });
  const update = (ns: string, name: string, data: Record<string, string>): Promise<ConfigMap> =>
    client.patch<ConfigMap>(configMaps, { namespace: ns, name }, { data });
  const remove = (ns: string, name: string): Promise<boolean> => client.delete(configMaps, { namespace: ns, name });

  /** A watcher of one namespace that records events as "type:name[:data.v]". */
  function recorder(ns: string, resumeFrom?: ConstructorParameters<typeof Watcher<ConfigMap>>[2]) {
    const log: string[] = [];
    const events: WatchEvent<ConfigMap>[] = [];
    const watcher = new Watcher<ConfigMap>(client, {
      resource: configMaps, namespace: ns, labelSelector: selector,
      onEvent: (ev) => {
        events.push(ev);
        log.push(`${ev.type}:${ev.object.metadata?.name}${ev.object.data?.v ? `:${ev.object.data.v}` : ""}`);
      },
    }, resumeFrom);
    onTeardown(() => watcher.stop());
    return { watcher, log, events };
  }

  it("lists existing objects, then delivers adds, updates and deletes", async function () {
    const ns = await newNamespace("watch");
    await create(ns, "before", { v: "1" });
    const { watcher, log, events } = recorder(ns);
    watcher.start();
    await watcher.waitForSync();
    expect(log).to.deep.equal(["added:before:1"]);
    expect(events[0].object.kind).to.equal("ConfigMap");
    await create(ns, "after", { v: "1" });
    await update(ns, "before", { v: "2" });
    await remove(ns, "after");
    await eventually(() => log.length >= 4, { what: "four events" });
    expect(log).to.deep.equal(["added:before:1", "added:after:1", "updated:before:2", "deleted:after:1"]);
    const upd = events[2];
    expect(upd.previous?.data?.v).to.equal("1");
    expect(watcher.get({ namespace: ns, name: "before" })?.data?.v).to.equal("2");
    expect(watcher.list(ns).map((o) => o.metadata?.name)).to.deep.equal(["before"]);
    await watcher.stop();
    expect(watcher.isRunning()).to.equal(false);
  });

  it("resumes from its last resourceVersion after a restart, replaying what happened meanwhile", async function () {
    const ns = await newNamespace("watch");
    await create(ns, "a", { v: "1" });
    await create(ns, "b", { v: "1" });
    const { watcher, log } = recorder(ns);
    watcher.start();
    await watcher.waitForSync();
    await watcher.stop();
    log.length = 0;
    await update(ns, "a", { v: "2" });
    await update(ns, "a", { v: "3" });
    await remove(ns, "b");
    await create(ns, "c");
    watcher.start();
    await eventually(() => log.length >= 4, { what: "replayed events" });
    // Every intermediate version arrives: a relist would have folded a's two updates into one.
    expect(log).to.deep.equal(["updated:a:2", "updated:a:3", "deleted:b:1", "added:c"]);
  });

  it("relists on restart when asked, emitting deletes for objects removed while not watching", async function () {
    const ns = await newNamespace("watch");
    await create(ns, "keep", { v: "1" });
    await create(ns, "gone", { v: "1" });
    const { watcher, log } = recorder(ns);
    watcher.start();
    await watcher.waitForSync();
    await watcher.stop();
    log.length = 0;
    await remove(ns, "gone");
    await update(ns, "keep", { v: "2" });
    await update(ns, "keep", { v: "3" });
    watcher.start({ relist: true });
    await eventually(() => log.length >= 2, { what: "relist events" });
    expect(log.sort()).to.deep.equal(["deleted:gone:1", "updated:keep:3"]);
    expect(watcher.list().map((o) => o.metadata?.name)).to.deep.equal(["keep"]);
  });

  it("relists when its resourceVersion has expired (410 Gone) and drops vanished objects", async function () {
    // Events are served from etcd (the API server keeps no watch cache for them), so compacting
    // etcd past a resourceVersion makes a watch from it fail with 410 Expired.
    const { state } = await getCluster();
    const ns = await newNamespace("watch");
    const events: ResourceRef = { group: "", version: "v1", plural: "events", kind: "Event" };
    const event = (name: string) => ({
      apiVersion: "v1", kind: "Event", metadata: { name, namespace: ns, labels: { [LABEL]: "watch" } },
      involvedObject: { kind: "ConfigMap", name: "x", namespace: ns }, reason: "Test", message: name, type: "Normal",
    });
    const old = (await client.create(events, event("old") as KubeObject)).metadata!.resourceVersion!;
    await client.delete(events, { namespace: ns, name: "old" });
    const real = await client.create(events, event("real") as KubeObject);
    const res = await fetch(`http://127.0.0.1:${state.etcdPort}/v3/kv/compaction`, {
      method: "POST", body: JSON.stringify({ revision: real.metadata!.resourceVersion, physical: true }),
    });
    expect(res.status).to.equal(200);
    const log: string[] = [];
    const ghost: KubeObject = { apiVersion: "v1", kind: "Event", metadata: { name: "old", namespace: ns, uid: "u", resourceVersion: old } };
    const watcher = new Watcher(client, {
      resource: events, namespace: ns, labelSelector: selector,
      onEvent: (ev) => log.push(`${ev.type}:${ev.object.metadata?.name}`),
    }, { resourceVersion: old, objects: [ghost] });
    onTeardown(() => watcher.stop());
    watcher.start();
    await eventually(() => log.length >= 2, { what: "relist after 410" });
    expect(log).to.deep.equal(["deleted:old", "added:real"]);
    expect(watcher.list().map((o) => o.metadata?.name)).to.deep.equal(["real"]);
    expect(watcher.resourceVersion()).to.not.equal(old);
    expect(watcher.lastError()).to.equal(undefined);
  });

  it("relists on request, emitting nothing for unchanged objects", async function () {
    const ns = await newNamespace("watch");
    await create(ns, "same", { v: "1" });
    const { watcher, log } = recorder(ns);
    watcher.start();
    await watcher.waitForSync();
    watcher.resync();
    await create(ns, "marker");
    await eventually(() => log.includes("added:marker"), { what: "marker added" });
    expect(log).to.deep.equal(["added:same:1", "added:marker"]);
  });

  it("backs off while the resource does not exist yet, and syncs once its CRD is installed", async function () {
    const group = `late${randomSuffix()}.example.com`;
    const gadgets: ResourceRef = { group, version: "v1", plural: "gadgets", kind: "Gadget" };
    const log: string[] = [];
    const watcher = new Watcher(client, {
      resource: gadgets, backoff: { baseMs: 200, maxMs: 1000 },
      onEvent: (ev) => log.push(`${ev.type}:${ev.object.metadata?.name}`),
    });
    onTeardown(() => watcher.stop());
    watcher.start();
    const err = await eventually(() => watcher.lastError(), { what: "an API error" });
    expect(isNotFound(err)).to.equal(true);
    expect(watcher.hasSynced()).to.equal(false);
    const crds: ResourceRef = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false };
    await client.create(crds, {
      apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: `gadgets.${group}` },
      spec: {
        group, scope: "Namespaced", names: { kind: "Gadget", plural: "gadgets", singular: "gadget", listKind: "GadgetList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      },
    } as KubeObject);
    onTeardown(() => client.delete(crds, { namespace: "", name: `gadgets.${group}` }).then(() => undefined));
    await watcher.waitForSync();
    const ns = await newNamespace("watch");
    await eventually(async () => client.create(gadgets, { apiVersion: `${group}/v1`, kind: "Gadget", metadata: { name: "g1", namespace: ns } }), { what: "create a gadget" });
    await eventually(() => log.includes("added:g1"), { what: "gadget added" });
    expect(watcher.lastError()).to.equal(undefined);
  });
});
