// JSON6902 patches and kustomize-style targets, as kustomization.yaml patches use them.
import { expect } from "chai";
import { applyJsonPatch, applyInstallPatches, matchesLabelSelector, PatchError } from "../../../provider/manifests/json-patch";

describe("JSON6902 patches", () => {
  it("add, replace, remove, copy, move and test values without touching the input", () => {
    const doc = { a: { b: [1, 2] }, c: "x" };
    const out = applyJsonPatch(doc, [
      { op: "add", path: "/a/b/-", value: 3 },
      { op: "add", path: "/a/b/0", value: 0 },
      { op: "replace", path: "/c", value: "y" },
      { op: "copy", from: "/c", path: "/d" },
      { op: "move", from: "/d", path: "/e~1f" },
      { op: "remove", path: "/a/b/1" },
      { op: "test", path: "/c", value: "y" },
    ]);
    expect(out).to.deep.equal({ a: { b: [0, 2, 3] }, c: "y", "e/f": "y" });
    expect(doc).to.deep.equal({ a: { b: [1, 2] }, c: "x" });
  });

  it("name the operation and the path that failed", () => {
    expect(() => applyJsonPatch({}, [{ op: "replace", path: "/missing", value: 1 }])).to.throw(PatchError, /operation 0 \(replace \/missing\)/);
  });

  it("select objects by kind, name and labels, and fail when a patch selects nothing", () => {
    const objs = [
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a", labels: { tier: "x" } } },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "b" } },
    ];
    const out = applyInstallPatches(objs, [{ target: { kind: "Deployment", labelSelector: "tier=x" }, operations: [{ op: "add", path: "/spec", value: {} }] }]);
    expect(out[0]).to.have.property("spec");
    expect(out[1]).to.not.have.property("spec");
    expect(() => applyInstallPatches(objs, [{ target: { kind: "Service" }, operations: [{ op: "add", path: "/x", value: 1 }] }])).to.throw(/selects no install object/);
    expect(matchesLabelSelector({ a: "1" }, "a=1,!b")).to.equal(true);
    expect(matchesLabelSelector({ a: "1" }, "a!=1")).to.equal(false);
  });
});
