import { expect } from "chai";
import { Condition, applyMergePatch, applyStatusChanges, mergePatchDiff, statusChanges, hasStatusChanges } from "../../../controllers/runtime";

const cond = (type: string, status: Condition["status"], reason = "R"): Condition =>
  ({ type, status, reason, message: "", lastTransitionTime: "2026-01-01T00:00:00Z" });

describe("runtime status patch: diff and replay", function () {
  it("computes a merge patch: changed and added fields, null for removed ones, arrays whole", function () {
    const before = { a: 1, b: { c: 2, d: 3 }, list: [1, 2], gone: "x" };
    const after = { a: 1, b: { c: 5, d: 3 }, list: [1, 2, 3], added: true };
    const patch = mergePatchDiff(before, after);
    expect(patch).to.deep.equal({ b: { c: 5 }, list: [1, 2, 3], added: true, gone: null });
    expect(applyMergePatch(before, patch)).to.deep.equal(after);
    expect(mergePatchDiff(after, structuredClone(after))).to.equal(undefined);
  });

  it("finds no changes when the status is untouched", function () {
    const s = { observedGeneration: 1, conditions: [cond("Ready", "True")] };
    expect(hasStatusChanges(statusChanges(s, structuredClone(s)))).to.equal(false);
  });

  it("separates field changes from per-type condition changes", function () {
    const before = { observedGeneration: 1, artifact: { revision: "a" }, conditions: [cond("Ready", "True"), cond("Reconciling", "True")] };
    const after = { observedGeneration: 2, artifact: { revision: "b" }, conditions: [cond("Ready", "False", "Failed")] };
    const ch = statusChanges(before, after);
    expect(ch.fields).to.deep.equal({ observedGeneration: 2, artifact: { revision: "b" } });
    expect(ch.setConditions.map((c) => c.type)).to.deep.equal(["Ready"]);
    expect(ch.removeConditions).to.deep.equal(["Reconciling"]);
  });

  it("replays our changes onto a newer status without dropping conditions others wrote", function () {
    const before = { conditions: [cond("Ready", "Unknown")] };
    const after = { observedGeneration: 5, conditions: [cond("Ready", "True", "Succeeded")] };
    const newer = { lastHandledReconcileAt: "now", conditions: [cond("Ready", "Unknown"), cond("Healthy", "True")] };
    const merged = applyStatusChanges(newer, statusChanges(before, after));
    expect(merged).to.deep.equal({
      lastHandledReconcileAt: "now", observedGeneration: 5,
      conditions: [cond("Ready", "True", "Succeeded"), cond("Healthy", "True")],
    });
  });
});
