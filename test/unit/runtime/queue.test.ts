import { expect } from "chai";
import { ManualClock, WorkQueue, flushPromises } from "../../../controllers/runtime";

function newQueue(opts: { random?: number; depth?: number[] } = {}): { q: WorkQueue<string>; clock: ManualClock } {
  const clock = new ManualClock();
  const q = new WorkQueue<string>({
    clock, random: () => opts.random ?? 0, backoff: { baseMs: 100, maxMs: 1000, jitter: 0.5 },
    onDepthChange: opts.depth ? (n) => opts.depth!.push(n) : undefined,
  });
  return { q, clock };
}

/** Resolves to the key if `get()` settles now, or "pending". */
async function peek(p: Promise<string | undefined>): Promise<string | undefined | "pending"> {
  return Promise.race([p, flushPromises().then(() => "pending" as const)]);
}

describe("runtime WorkQueue", function () {
  describe("de-duplication", function () {
    it("hands out a key added twice only once", async function () {
      const { q } = newQueue();
      q.add("a");
      q.add("a");
      q.add("b");
      expect(q.depth()).to.equal(2);
      expect(await q.get()).to.equal("a");
      expect(await q.get()).to.equal("b");
      expect(await peek(q.get())).to.equal("pending");
    });

    it("keeps FIFO order of distinct keys", async function () {
      const { q } = newQueue();
      for (const k of ["c", "a", "b"]) q.add(k);
      expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(["c", "a", "b"]);
    });
  });

  describe("one key in flight at a time", function () {
    it("does not hand out a key while it is in flight, and re-runs it after done", async function () {
      const { q } = newQueue();
      q.add("a");
      const first = await q.get();
      expect(first).to.equal("a");
      q.add("a");
      q.add("a");
      expect(q.depth()).to.equal(0);
      const second = q.get();
      expect(await peek(second)).to.equal("pending");
      q.done("a");
      expect(await second).to.equal("a");
      q.done("a");
      expect(await peek(q.get())).to.equal("pending");
    });

    it("gives concurrent workers distinct keys", async function () {
      const { q } = newQueue();
      const running = new Set<string>();
      let maxParallel = 0;
      const seen: string[] = [];
      const gates: Array<() => void> = [];
      const run = q.run(3, async (k) => {
        expect(running.has(k), `key ${k} ran twice at once`).to.equal(false);
        running.add(k);
        maxParallel = Math.max(maxParallel, running.size);
        seen.push(k);
        await new Promise<void>((r) => gates.push(r));
        running.delete(k);
      });
      for (const k of ["a", "b", "c", "d"]) q.add(k);
      await flushPromises();
      expect(maxParallel).to.equal(3);
      expect(seen).to.deep.equal(["a", "b", "c"]);
      q.add("a");
      q.add("a");
      while (gates.length) { gates.shift()!(); await flushPromises(); }
      expect(seen).to.deep.equal(["a", "b", "c", "d", "a"]);
      const report = await q.shutdown(1000);
      expect(report.drained).to.equal(true);
      await run;
    });
  });

  describe("back-off", function () {
    it("grows exponentially per key, is capped, and resets on forget", async function () {
      const { q } = newQueue({ random: 0 });
      expect([1, 2, 3, 4, 5].map(() => q.addRateLimited("a"))).to.deep.equal([100, 200, 400, 800, 1000]);
      expect(q.failures("a")).to.equal(5);
      expect(q.addRateLimited("b")).to.equal(100);
      q.forget("a");
      expect(q.failures("a")).to.equal(0);
      expect(q.addRateLimited("a")).to.equal(100);
    });

    it("shortens delays by up to the jitter fraction and never exceeds the cap", function () {
      const { q } = newQueue({ random: 1 });
      expect(q.addRateLimited("a")).to.equal(50);
      for (let i = 0; i < 10; i++) expect(q.addRateLimited("a")).to.be.at.most(1000);
    });

    it("makes a failed key ready only after its delay", async function () {
      const { q, clock } = newQueue({ random: 0 });
      q.addRateLimited("a");
      expect(q.depth()).to.equal(0);
      await clock.advance(99);
      expect(q.depth()).to.equal(0);
      await clock.advance(1);
      expect(q.depth()).to.equal(1);
      expect(await q.get()).to.equal("a");
    });
  });

  describe("delayed adds", function () {
    it("fires keys in time order", async function () {
      const { q, clock } = newQueue();
      q.addAfter("late", 300);
      q.addAfter("early", 100);
      q.addAfter("mid", 200);
      await clock.advance(250);
      expect([await q.get(), await q.get()]).to.deep.equal(["early", "mid"]);
      await clock.advance(50);
      expect(await q.get()).to.equal("late");
    });

    it("keeps the earlier time when a key is scheduled twice", async function () {
      const { q, clock } = newQueue();
      q.addAfter("a", 500);
      q.addAfter("a", 100);
      q.addAfter("a", 900);
      await clock.advance(100);
      expect(q.depth()).to.equal(1);
      expect(await q.get()).to.equal("a");
      q.done("a");
      await clock.advance(1000);
      expect(q.depth()).to.equal(0);
    });

    it("drops a pending schedule once the key starts running", async function () {
      const { q, clock } = newQueue();
      q.addAfter("a", 100);
      q.add("a");
      expect(await q.get()).to.equal("a");
      q.done("a");
      await clock.advance(200);
      expect(q.depth()).to.equal(0);
      expect(q.delayedCount()).to.equal(0);
    });

    it("keeps a schedule made while the key is in flight", async function () {
      const { q, clock } = newQueue();
      q.add("a");
      await q.get();
      q.addAfter("a", 100);
      q.done("a");
      await clock.advance(100);
      expect(await q.get()).to.equal("a");
    });

    it("applies interval jitter when asked", async function () {
      const { q, clock } = newQueue({ random: 1 });
      q.addAfter("a", 1000, 0.1);
      await clock.advance(1099);
      expect(q.depth()).to.equal(0);
      await clock.advance(1);
      expect(q.depth()).to.equal(1);
    });
  });

  describe("depth metric", function () {
    it("reports the number of ready keys as it changes", async function () {
      const depth: number[] = [];
      const { q } = newQueue({ depth });
      q.add("a");
      q.add("b");
      await q.get();
      expect(depth).to.deep.equal([1, 2, 1]);
    });
  });

  describe("graceful shutdown", function () {
    it("lets in-flight keys finish, drops waiting ones and stops handing out keys", async function () {
      const { q } = newQueue();
      q.add("a");
      q.add("b");
      q.addAfter("c", 1000);
      expect(await q.get()).to.equal("a");
      const stopping = q.shutdown(5000);
      expect(await q.get()).to.equal(undefined);
      expect(await peek(stopping as unknown as Promise<string>)).to.equal("pending");
      q.done("a");
      const report = await stopping;
      expect(report).to.deep.equal({ drained: true, abandoned: [], dropped: 2 });
      q.add("e");
      expect(q.depth()).to.equal(0);
      expect(await q.get()).to.equal(undefined);
    });

    it("wakes idle workers with undefined", async function () {
      const { q } = newQueue();
      const idle = [q.get(), q.get()];
      await q.shutdown(0);
      expect(await Promise.all(idle)).to.deep.equal([undefined, undefined]);
    });

    it("abandons keys still in flight at the deadline", async function () {
      const { q, clock } = newQueue();
      q.add("slow");
      await q.get();
      const stopping = q.shutdown(1000);
      await clock.advance(999);
      expect(await peek(stopping as unknown as Promise<string>)).to.equal("pending");
      await clock.advance(1);
      expect(await stopping).to.deep.equal({ drained: false, abandoned: ["slow"], dropped: 0 });
    });

    it("retries a key whose handler throws", async function () {
      const { q, clock } = newQueue({ random: 0 });
      const errors: string[] = [];
      let calls = 0;
      const run = q.run(1, async () => { calls++; if (calls === 1) throw new Error("boom"); }, (k, e) => errors.push(`${k}:${(e as Error).message}`));
      q.add("a");
      await flushPromises();
      expect(errors).to.deep.equal(["a:boom"]);
      await clock.advance(100);
      expect(calls).to.equal(2);
      await q.shutdown(10);
      await run;
    });
  });
});
