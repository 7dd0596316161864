// When a reconcile may read its object from the watch cache: only once the cache holds a
// resourceVersion at or after the controller's own last write of it (pure logic).
import { expect } from "chai";
import { caughtUp } from "../../../controllers/runtime/reconcile-object";

describe("runtime caughtUp: cached reads never older than our own last write", () => {
  it("reads the cache when we never wrote the object, or the cache is at or past our write", () => {
    expect(caughtUp("5", undefined)).to.equal(true);
    expect(caughtUp("120", "120")).to.equal(true);
    expect(caughtUp("121", "120")).to.equal(true);
    // Compared as integers, not strings ("99" < "100").
    expect(caughtUp("100", "99")).to.equal(true);
  });
  it("reads the API server while the watch has not delivered our write", () => {
    expect(caughtUp("119", "120")).to.equal(false);
    expect(caughtUp("99", "100")).to.equal(false);
    expect(caughtUp(undefined, "1")).to.equal(false);
    // resourceVersions that are not integers can only be compared for equality.
    expect(caughtUp("abc", "abd")).to.equal(false);
    expect(caughtUp("abc", "abc")).to.equal(true);
  });
});
