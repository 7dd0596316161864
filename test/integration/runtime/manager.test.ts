import { expect } from "chai";
import { KubeClient, KubeObject, Manager, ObjectKey, ResourceRef, Result, Watcher, createLogger } from "../../../controllers/runtime";
import type { ReconcileContext } from "../../../controllers/runtime";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";

const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" } as const satisfies ResourceRef;
type ConfigMap = KubeObject & { data?: Record<string, string> };
const ANNOTATION = "runtime-test/reconciled";

/**
 * A toy reconciler: copies data.v into an annotation. The label "mode" picks a behaviour:
 * requeue (every 300 ms), fail-twice (retry, then succeed), throw-once, terminal, slow (waits for a gate).
 */
class Toy {
  calls: Array<{ key: string; at: number }> = [];
  gate?: { open: () => void; promise: Promise<void> };
  attempts = new Map<string, number>();

  count(key: ObjectKey): number { return this.calls.filter((c) => c.key === `${key.namespace}/${key.name}`).length; }

  reconcile = async (key: ObjectKey, ctx: ReconcileContext): Promise<Result> => {
    const cm = await ctx.client.get<ConfigMap>(configMaps, key, { signal: ctx.signal });
    if (!cm) return Result.done();
    const k = `${key.namespace}/${key.name}`;
    this.calls.push({ key: k, at: Date.now() });
    const n = (this.attempts.get(k) ?? 0) + 1;
    this.attempts.set(k, n);
    const mode = cm.metadata?.labels?.mode;
    if (mode === "fail-twice" && n <= 2) return Result.retry(new Error(`attempt ${n} failed`));
    if (mode === "throw-once" && n === 1) throw new TypeError("a bug");
    if (mode === "terminal") return Result.terminal(new Error("invalid configuration"));
    if (mode === "slow") await this.gate?.promise;
    await ctx.client.patch(configMaps, key, { metadata: { annotations: { [ANNOTATION]: cm.data?.v ?? "" } } }, { signal: ctx.signal });
    return mode === "requeue" ? Result.requeueAfter(300) : Result.done();
  };
}

describe("runtime Manager driving a toy ConfigMap reconciler", function () {
  let client: KubeClient;
  let ns: string;
  let toy: Toy;
  let manager: Manager;
  const selector = `runtime-test-run=${randomSuffix()}`;

  before(async function () {
    this.timeout(120000);
    const { kc } = await getCluster();
    client = KubeClient.fromKubeConfig(kc, { qps: 0 });
    ns = await newNamespace("mgr");
    toy = new Toy();
    manager = new Manager({
      name: "toy-controller", kubeConfig: kc, handleSignals: false,
      flags: { metricsAddr: "127.0.0.1:0", healthAddr: "", watchLabelSelector: selector, concurrent: 2, gracefulShutdownTimeoutMs: 20000 },
      backoff: { baseMs: 200, maxMs: 5000, jitter: 0 },
      logger: createLogger({ level: process.env.GITOPS_TEST_VERBOSE ? "debug" : "silent" }),
    });
    manager.add({ name: "configmap", kind: configMaps, reconcile: toy.reconcile });
    onTeardown(() => manager.stop());
    await manager.start();
  });

  const [labelKey, labelValue] = selector.split("=");
  const create = (name: string, v: string, mode?: string): Promise<ConfigMap> => client.create<ConfigMap>(configMaps, {
    apiVersion: "v1", kind: "ConfigMap", data: { v },
    metadata: { name, namespace: ns, labels: { [labelKey]: labelValue, ...(mode ? { mode } : {}) } },
  });
  const annotation = async (name: string): Promise<string | undefined> =>
    (await client.get<ConfigMap>(configMaps, { namespace: ns, name }))?.metadata?.annotations?.[ANNOTATION];

  it("is ready and serves metrics once its caches are synced", async function () {
    await eventually(() => manager.isReady(), { what: "manager ready" });
    const base = `http://127.0.0.1:${manager.ports[0]}`;
    expect((await fetch(`${base}/readyz`)).status).to.equal(200);
    expect((await fetch(`${base}/healthz`)).status).to.equal(200);
  });

  it("reconciles an object when it is created and again when it is updated", async function () {
    await create("plain", "one");
    await eventually(async () => (await annotation("plain")) === "one", { what: "annotation one" });
    await client.patch(configMaps, { namespace: ns, name: "plain" }, { data: { v: "two" } });
    await eventually(async () => (await annotation("plain")) === "two", { what: "annotation two" });
  });

  it("reconciles again after requeueAfter without any change to the object", async function () {
    await create("requeue", "r", "requeue");
    const key = { namespace: ns, name: "requeue" };
    await eventually(() => toy.count(key) >= 4, { what: "four reconciles of a requeued object", timeoutMs: 10000 });
    const times = toy.calls.filter((c) => c.key === `${ns}/requeue`).map((c) => c.at);
    // After the first reconcile and the echo of its own annotation write, runs are ~300 ms apart.
    expect(times[times.length - 1] - times[times.length - 2]).to.be.at.least(250);
  });

  it("retries with growing back-off after errors, then succeeds", async function () {
    await create("flaky", "f", "fail-twice");
    await eventually(async () => (await annotation("flaky")) === "f", { what: "success after retries", timeoutMs: 10000 });
    const times = toy.calls.filter((c) => c.key === `${ns}/flaky`).map((c) => c.at);
    expect(times.length).to.be.at.least(3);
    const [g1, g2] = [times[1] - times[0], times[2] - times[1]];
    expect(g1).to.be.at.least(180);
    expect(g2).to.be.at.least(380);
    expect(manager.runner("configmap")!.queue.failures(`${ns}/flaky`)).to.equal(0);
  });

  it("retries a reconciler that throws", async function () {
    await create("buggy", "b", "throw-once");
    await eventually(async () => (await annotation("buggy")) === "b", { what: "success after a throw" });
  });

  it("does not retry a terminal error, and counts it", async function () {
    await create("broken", "x", "terminal");
    const key = { namespace: ns, name: "broken" };
    await eventually(() => toy.count(key) === 1, { what: "one reconcile" });
    const queue = manager.runner("configmap")!.queue;
    await eventually(() => !queue.inFlight().includes(`${ns}/broken`), { what: "reconcile finished" });
    expect(queue.failures(`${ns}/broken`)).to.equal(0);
    const metrics = await (await fetch(`http://127.0.0.1:${manager.ports[0]}/metrics`)).text();
    expect(metrics).to.match(/gotk_reconcile_total\{kind="ConfigMap",result="terminal"\} [1-9]/);
    expect(metrics).to.match(/gotk_reconcile_total\{kind="ConfigMap",result="retry"\} [1-9]/);
    expect(metrics).to.match(/gotk_reconcile_duration_seconds_count\{kind="ConfigMap",name="plain",namespace="[^"]+"\} [1-9]/);
    expect(metrics).to.match(/workqueue_depth\{name="configmap"\} \d/);
  });

  it("shuts down gracefully: finishes the reconcile in flight, then stops reconciling", async function () {
    const port = manager.ports[0];
    let open!: () => void;
    toy.gate = { open: () => open(), promise: new Promise<void>((r) => { open = r; }) };
    await create("slow", "s", "slow");
    const key = { namespace: ns, name: "slow" };
    await eventually(() => toy.count(key) === 1, { what: "slow reconcile started" });
    let stopped = false;
    const stopping = manager.stop().then(() => { stopped = true; });
    await eventually(() => manager.state === "stopping", { what: "stopping" });
    expect(stopped).to.equal(false);
    toy.gate.open();
    await stopping;
    expect(manager.state).to.equal("stopped");
    expect(await annotation("slow")).to.equal("s");
    const before = toy.calls.length;
    expect(manager.runner("configmap")!.queue.isShuttingDown()).to.equal(true);
    // A separate watcher witnesses the changes; once it has seen them, a live manager would have too.
    const seen: string[] = [];
    const witness = new Watcher(client, { resource: configMaps, namespace: ns, onEvent: (ev) => seen.push(`${ev.type}:${ev.object.metadata?.name}`) });
    onTeardown(() => witness.stop());
    witness.start();
    await witness.waitForSync();
    await client.patch(configMaps, { namespace: ns, name: "plain" }, { data: { v: "three" } });
    await create("after-stop", "z");
    await eventually(() => seen.includes("added:after-stop"), { what: "witness saw the changes" });
    await witness.stop();
    expect(toy.calls.length).to.equal(before);
    await fetch(`http://127.0.0.1:${port}/healthz`).then(() => expect.fail("endpoint still open"), () => undefined);
    expect(await annotation("plain")).to.equal("two");
  });
});
