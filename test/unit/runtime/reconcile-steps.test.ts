import { expect } from "chai";
import { RECONCILE_REQUESTED_AT, Result, isSuccess, isSuspended, markReconcileRequestHandled, requeueAtInterval } from "../../../controllers/runtime";

describe("runtime reconcile steps", function () {
  it("copies reconcile.fluxcd.io/requestedAt to status.lastHandledReconcileAt once", function () {
    const obj: { metadata: { annotations: Record<string, string> }; status?: Record<string, unknown> } =
      { metadata: { annotations: { [RECONCILE_REQUESTED_AT]: "2026-05-01T10:00:00Z" } } };
    expect(markReconcileRequestHandled(obj)).to.equal(true);
    expect(obj.status?.lastHandledReconcileAt).to.equal("2026-05-01T10:00:00Z");
    expect(markReconcileRequestHandled(obj)).to.equal(false);
    expect(markReconcileRequestHandled({ metadata: {} })).to.equal(false);
  });

  it("reads spec.suspend", function () {
    expect(isSuspended({ spec: { suspend: true } } as never)).to.equal(true);
    expect(isSuspended({ spec: { suspend: false } } as never)).to.equal(false);
    expect(isSuspended({})).to.equal(false);
  });

  it("requeues at spec.interval with jitter", function () {
    expect(requeueAtInterval("10m", 0.1, () => 1)).to.deep.equal(Result.requeueAfter(660_000));
    expect(requeueAtInterval(1000, 0, () => 1)).to.deep.equal(Result.requeueAfter(1000));
  });

  it("builds results; only done and requeueAfter are successes", function () {
    expect(isSuccess(Result.done())).to.equal(true);
    expect(isSuccess(Result.requeueAfter(5))).to.equal(true);
    expect(isSuccess(Result.retry(new Error("x")))).to.equal(false);
    const t = Result.terminal("bad spec");
    expect(t.type === "terminal" && t.error.message).to.equal("bad spec");
    expect(() => Result.requeueAfter(-1)).to.throw(RangeError);
  });
});
