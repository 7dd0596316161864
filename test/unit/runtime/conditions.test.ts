import { expect } from "chai";
import {
  Condition, ObjectWithConditions, getCondition, isFalse, isReady, isTrue, markFalse, markReconciling, markStalled, markTrue,
  markUnknown, metaTime, removeCondition, setCondition, MAX_MESSAGE_LENGTH,
} from "../../../controllers/runtime";

const t0 = new Date("2026-05-01T10:00:00.123Z");
const t1 = new Date("2026-05-01T10:05:00.000Z");
const t2 = new Date("2026-05-01T10:10:00.000Z");

function obj(generation = 3): ObjectWithConditions {
  return { metadata: { generation } };
}

describe("runtime conditions", function () {
  it("adds a condition with transition time, message and observedGeneration", function () {
    const o = obj();
    markTrue(o, "Ready", "Succeeded", "stored artifact", t0);
    expect(o.status?.conditions).to.deep.equal([{
      type: "Ready", status: "True", reason: "Succeeded", message: "stored artifact",
      lastTransitionTime: "2026-05-01T10:00:00Z", observedGeneration: 3,
    }]);
  });

  it("keeps lastTransitionTime when the status does not change, and moves it when it does", function () {
    const o = obj();
    markFalse(o, "Ready", "GitOperationFailed", "auth failed", t0);
    o.metadata!.generation = 4;
    markFalse(o, "Ready", "ArtifactFailed", "disk full", t1);
    let c = getCondition(o, "Ready")!;
    expect(c.lastTransitionTime).to.equal(metaTime(t0));
    expect(c.reason).to.equal("ArtifactFailed");
    expect(c.message).to.equal("disk full");
    expect(c.observedGeneration).to.equal(4);
    markTrue(o, "Ready", "Succeeded", "ok", t2);
    c = getCondition(o, "Ready")!;
    expect(c.lastTransitionTime).to.equal(metaTime(t2));
    expect(c.status).to.equal("True");
  });

  it("updates one type in place and leaves the others alone", function () {
    const o = obj();
    markTrue(o, "Ready", "Succeeded", "", t0);
    markReconciling(o, "Progressing", "building", t0);
    markStalled(o, "InvalidURL", "bad url", t0);
    markUnknown(o, "Ready", "Progressing", "reconciling", t1);
    expect(o.status!.conditions!.map((c: Condition) => `${c.type}=${c.status}`)).to.deep.equal(["Ready=Unknown", "Reconciling=True", "Stalled=True"]);
    expect(isTrue(o, "Stalled")).to.equal(true);
    expect(isFalse(o, "Ready")).to.equal(false);
  });

  it("removes a condition", function () {
    const o = obj();
    markReconciling(o, "Progressing", "", t0);
    expect(removeCondition(o, "Reconciling")).to.equal(true);
    expect(removeCondition(o, "Reconciling")).to.equal(false);
    expect(o.status!.conditions).to.deep.equal([]);
  });

  it("omits observedGeneration for objects without a generation", function () {
    const o: ObjectWithConditions = {};
    const c = setCondition(o, { type: "Ready", status: "True", reason: "Succeeded" }, t0);
    expect(c).to.not.have.property("observedGeneration");
    expect(c.message).to.equal("");
  });

  it("truncates overlong messages to what the API server accepts", function () {
    const o = obj();
    const c = markFalse(o, "Ready", "BuildFailed", "x".repeat(MAX_MESSAGE_LENGTH + 10), t0);
    expect(c.message.length).to.equal(MAX_MESSAGE_LENGTH);
    expect(c.message.endsWith("...")).to.equal(true);
  });

  describe("isReady", function () {
    it("is true for Ready=True at the current generation", function () {
      const o = obj(2);
      markTrue(o, "Ready", "Succeeded", "", t0);
      o.status!.observedGeneration = 2;
      expect(isReady(o)).to.equal(true);
    });

    it("is false when Ready is False, Unknown or missing", function () {
      const o = obj();
      expect(isReady(o)).to.equal(false);
      markUnknown(o, "Ready", "Progressing", "", t0);
      expect(isReady(o)).to.equal(false);
      markFalse(o, "Ready", "Failed", "", t0);
      expect(isReady(o)).to.equal(false);
    });

    it("is false when the status is stale (generation moved on)", function () {
      const o = obj(2);
      markTrue(o, "Ready", "Succeeded", "", t0);
      o.status!.observedGeneration = 2;
      o.metadata!.generation = 3;
      expect(isReady(o)).to.equal(false);
    });
  });
});
