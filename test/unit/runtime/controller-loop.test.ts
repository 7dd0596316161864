import { expect } from "chai";
import { KubeConfig } from "@kubernetes/client-node";
import {
  ControllerRunner, EventRecorder, KubeClient, ManualClock, Result, createMetrics, generationOrAnnotationsChanged, silentLogger,
} from "../../../controllers/runtime";
import type { ReconcileContext, Result as R } from "../../../controllers/runtime";

function runnerWith(reconcile: () => Promise<R>): { runner: ControllerRunner; clock: ManualClock; metrics: ReturnType<typeof createMetrics> } {
  const kc = new KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: "c", server: "https://127.0.0.1:1" }], users: [{ name: "u" }], contexts: [{ name: "x", cluster: "c", user: "u" }], currentContext: "x" });
  const client = KubeClient.fromKubeConfig(kc);
  const clock = new ManualClock();
  const metrics = createMetrics({ processMetrics: false });
  const runner = new ControllerRunner({
    name: "widget", kind: { group: "example.com", version: "v1", plural: "widgets", kind: "Widget" },
    reconcile: async (_key, _ctx: ReconcileContext) => reconcile(),
  }, {
    client, logger: silentLogger, metrics, events: new EventRecorder(client, { reportingController: "test" }),
    clock, concurrency: 1, backoff: { baseMs: 100, maxMs: 1000, jitter: 0 }, random: () => 0,
  });
  return { runner, clock, metrics };
}

async function counter(metrics: ReturnType<typeof createMetrics>, result: string): Promise<number> {
  const v = (await metrics.reconcileTotal.get()).values.find((x) => x.labels.result === result);
  return v?.value ?? 0;
}

describe("runtime controller loop: interpreting results", function () {
  it("forgets a key after done", async function () {
    const { runner, metrics } = runnerWith(async () => Result.done());
    expect(await runner.processKey("ns/a")).to.equal("done");
    expect(runner.queue.delayedCount()).to.equal(0);
    expect(await counter(metrics, "done")).to.equal(1);
    const h = (await metrics.reconcileDuration.get()).values.find((v) => v.metricName === "gotk_reconcile_duration_seconds_count");
    expect(h?.labels).to.deep.include({ kind: "Widget", name: "a", namespace: "ns" });
  });

  it("schedules a key after requeueAfter", async function () {
    const { runner, clock } = runnerWith(async () => Result.requeueAfter(5000));
    await runner.processKey("ns/a");
    expect(runner.queue.delayedCount()).to.equal(1);
    await clock.advance(5000);
    expect(runner.queue.depth()).to.equal(1);
  });

  it("retries with growing back-off and resets it after a success", async function () {
    let fail = true;
    const { runner, clock } = runnerWith(async () => (fail ? Result.retry(new Error("transient")) : Result.done()));
    await runner.processKey("ns/a");
    await clock.advance(100);
    expect(await runner.queue.get()).to.equal("ns/a");
    await runner.processKey("ns/a");
    runner.queue.done("ns/a");
    expect(runner.queue.failures("ns/a")).to.equal(2);
    await clock.advance(199);
    expect(runner.queue.depth()).to.equal(0);
    await clock.advance(1);
    expect(runner.queue.depth()).to.equal(1);
    fail = false;
    await runner.processKey("ns/a");
    expect(runner.queue.failures("ns/a")).to.equal(0);
  });

  it("does not retry a terminal error", async function () {
    const { runner, clock, metrics } = runnerWith(async () => Result.terminal(new Error("invalid spec")));
    expect(await runner.processKey("ns/a")).to.equal("terminal");
    await clock.advance(60_000);
    expect(runner.queue.depth() + runner.queue.delayedCount()).to.equal(0);
    expect(await counter(metrics, "terminal")).to.equal(1);
  });

  it("survives a throwing reconciler and retries it", async function () {
    const { runner, metrics } = runnerWith(async () => { throw new TypeError("bug"); });
    expect(await runner.processKey("ns/a")).to.equal("error");
    expect(runner.queue.delayedCount()).to.equal(1);
    expect(await counter(metrics, "error")).to.equal(1);
  });
});

describe("runtime controller loop: default predicate", function () {
  const obj = (rv: string, generation?: number, annotations?: Record<string, string>) =>
    ({ metadata: { name: "a", namespace: "ns", resourceVersion: rv, generation, annotations } });

  it("enqueues adds, deletes, spec changes and annotation changes, not status-only writes", function () {
    expect(generationOrAnnotationsChanged({ type: "added", object: obj("1", 1) })).to.equal(true);
    expect(generationOrAnnotationsChanged({ type: "deleted", object: obj("1", 1) })).to.equal(true);
    expect(generationOrAnnotationsChanged({ type: "updated", object: obj("2", 2), previous: obj("1", 1) })).to.equal(true);
    expect(generationOrAnnotationsChanged({ type: "updated", object: obj("2", 1), previous: obj("1", 1) })).to.equal(false);
    expect(generationOrAnnotationsChanged({
      type: "updated", object: obj("2", 1, { "reconcile.fluxcd.io/requestedAt": "now" }), previous: obj("1", 1),
    })).to.equal(true);
  });

  it("enqueues any change of kinds without a generation", function () {
    expect(generationOrAnnotationsChanged({ type: "updated", object: obj("2"), previous: obj("1") })).to.equal(true);
  });
});
