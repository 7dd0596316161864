import { expect } from "chai";
import { ApplyMemo } from "../../../controllers/runtime/ssa/apply-memo";

const cm = (v: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n" }, data: { v } });
const live = (rv?: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n", resourceVersion: rv } });

describe("ApplyMemo", () => {
  it("answers unchanged only for the same desired object at the same resourceVersion", () => {
    const m = new ApplyMemo();
    m.remember("k", cm("1"), "10");
    expect(m.unchanged("k", cm("1"), live("10"))).to.equal(true);
    expect(m.unchanged("k", cm("2"), live("10")), "new desired").to.equal(false);
    expect(m.unchanged("k", cm("1"), live("11")), "written by someone").to.equal(false);
    expect(m.unchanged("k", cm("1"), undefined), "gone").to.equal(false);
    expect(m.unchanged("k", cm("1"), live(undefined)), "no resourceVersion").to.equal(false);
    expect(m.unchanged("other", cm("1"), live("10"))).to.equal(false);
  });

  it("forgets on request, on a missing resourceVersion, and the oldest beyond its bound", () => {
    const m = new ApplyMemo(2);
    m.remember("a", cm("1"), "1");
    m.remember("b", cm("1"), "1");
    m.remember("a", cm("1"), "2"); // refreshed: now the newest
    m.remember("c", cm("1"), "1");
    expect([m.has("a"), m.has("b"), m.has("c")]).to.deep.equal([true, false, true]);
    m.forget("a");
    expect(m.has("a")).to.equal(false);
    m.remember("c", cm("1"), undefined);
    expect(m.size).to.equal(0);
  });
});
