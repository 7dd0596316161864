import { expect } from "chai";
import { ManualClock, TokenBucket, flushPromises } from "../../../controllers/runtime";

describe("runtime TokenBucket (--kube-api-qps, --kube-api-burst)", function () {
  it("allows a burst at once, then paces requests at qps", async function () {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 10, burst: 3, clock });
    let done = 0;
    for (let i = 0; i < 6; i++) void bucket.take().then(() => { done++; });
    await flushPromises();
    expect(done).to.equal(3);
    await clock.advance(99);
    expect(done).to.equal(3);
    await clock.advance(1);
    expect(done).to.equal(4);
    await clock.advance(200);
    expect(done).to.equal(6);
  });

  it("refills up to burst after a quiet period, not more", async function () {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 1, burst: 2, clock });
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).to.deep.equal([true, true, false]);
    await clock.advance(60_000);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).to.deep.equal([true, true, false]);
  });

  it("does not limit when qps is 0", function () {
    const bucket = new TokenBucket({ qps: 0, burst: 1, clock: new ManualClock() });
    for (let i = 0; i < 100; i++) expect(bucket.tryTake()).to.equal(true);
  });

  it("rejects a waiting take when its signal aborts", async function () {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ qps: 1, burst: 1, clock });
    bucket.tryTake();
    const ac = new AbortController();
    const p = bucket.take(ac.signal);
    ac.abort(new Error("stop"));
    let err: Error | undefined;
    await p.catch((e: Error) => { err = e; });
    expect(err?.message).to.equal("stop");
  });
});
