import { expect } from "chai";
import { Lease, LeaseSpec, LeaseStore, LeaderElector, ManualClock, microTime } from "../../../controllers/runtime";

/** One Lease in memory with resourceVersion checks, as the API server keeps it. */
class MemoryLease {
  lease?: Lease;
  #rv = 0;
  store(opts: { down?: () => boolean } = {}): LeaseStore {
    const check = (): void => { if (opts.down?.()) throw new Error("connection refused"); };
    return {
      get: async () => { check(); return this.lease && structuredClone(this.lease); },
      create: async (spec: LeaseSpec) => {
        check();
        if (this.lease) return false;
        this.lease = { metadata: { name: "l", namespace: "ns", resourceVersion: String(++this.#rv) }, spec };
        return structuredClone(this.lease);
      },
      update: async (lease: Lease, spec: LeaseSpec) => {
        check();
        if (lease.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) return false;
        this.lease = { metadata: { ...this.lease!.metadata, resourceVersion: String(++this.#rv) }, spec };
        return structuredClone(this.lease);
      },
    };
  }
}

const timing = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

describe("runtime leader election (in-memory lease)", function () {
  it("lets exactly one of two candidates lead, and hands over when the leader releases", async function () {
    const clock = new ManualClock();
    const mem = new MemoryLease();
    const leading = new Set<string>();
    const make = (id: string): LeaderElector => new LeaderElector(mem.store(), {
      ...timing, identity: id, clock, random: () => 0.5,
      onStartedLeading: () => { expect([...leading], `${id} started while others lead`).to.deep.equal([]); leading.add(id); },
      onStoppedLeading: () => { leading.delete(id); },
    });
    const a = make("a");
    const b = make("b");
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal);
    await clock.advance(1);
    const runB = b.run(stopB.signal);
    for (let t = 0; t < 60_000; t += 500) {
      await clock.advance(500);
      expect(leading.size).to.equal(1);
    }
    expect([...leading]).to.deep.equal(["a"]);
    expect(b.leader()).to.equal("a");
    stopA.abort();
    await runA;
    expect(mem.lease?.spec?.holderIdentity).to.equal("");
    await clock.advance(3_000);
    expect([...leading]).to.deep.equal(["b"]);
    expect(mem.lease?.spec?.leaseTransitions).to.equal(1);
    stopB.abort();
    await runB;
  });

  it("steps down when it cannot renew, before the other candidate may take over", async function () {
    const clock = new ManualClock();
    const mem = new MemoryLease();
    let partitioned = false;
    const leading = new Set<string>();
    const events: string[] = [];
    const make = (id: string, store: LeaseStore): LeaderElector => new LeaderElector(store, {
      ...timing, identity: id, clock, random: () => 0.5,
      onStartedLeading: () => { leading.add(id); events.push(`${id}+@${clock.now()}`); },
      onStoppedLeading: () => { leading.delete(id); events.push(`${id}-@${clock.now()}`); },
    });
    const a = make("a", mem.store({ down: () => partitioned }));
    const b = make("b", mem.store());
    const stopA = new AbortController();
    const stopB = new AbortController();
    const runA = a.run(stopA.signal);
    await clock.advance(1);
    const runB = b.run(stopB.signal);
    await clock.advance(10_000);
    expect([...leading]).to.deep.equal(["a"]);
    partitioned = true;
    for (let t = 0; t < 40_000; t += 250) {
      await clock.advance(250);
      expect(leading.size, `both lead at ${t}`).to.be.at.most(1);
    }
    expect([...leading]).to.deep.equal(["b"]);
    const at = (e: string): number => Number(events.find((x) => x.startsWith(e))!.split("@")[1]);
    expect(at("a-"), events.join(" ")).to.be.lessThan(at("b+"));
    await runA;
    expect(a.isLeader()).to.equal(false);
    stopB.abort();
    stopA.abort();
    await runB;
  });

  it("writes renewTime as a MicroTime", function () {
    expect(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678))).to.equal("2026-01-02T03:04:05.678000Z");
  });

  it("refuses a renew deadline not shorter than the lease duration", function () {
    expect(() => new LeaderElector(new MemoryLease().store(), { identity: "x", leaseDurationMs: 10, renewDeadlineMs: 10 })).to.throw(/renewDeadline/);
  });
});
