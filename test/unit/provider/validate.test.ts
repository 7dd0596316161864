// Input validation against the schema values the CRDs come from.
import { expect } from "chai";
import { gitRepositorySpec } from "../../../controllers/api/source/v1/git-repository";
import { UnknownValue, validate } from "../../../provider/schema/validate";

describe("schema validation", () => {
  it("names each bad field with the rule it breaks, and suggests a misspelt field", () => {
    const f = validate({ url: "ftp://x", interval: "soon", reff: { branch: "main" } }, gitRepositorySpec, "spec");
    const byProp = Object.fromEntries(f.map((x) => [x.property, x.reason]));
    expect(byProp["spec.url"]).to.match(/does not match/);
    expect(byProp["spec.interval"]).to.match(/does not match/);
    expect(byProp["spec.reff"]).to.match(/unknown field; did you mean 'ref'/);
  });

  it("skips values not known yet (preview) and accepts a valid spec", () => {
    expect(validate({ url: UnknownValue, interval: "1m" }, gitRepositorySpec, "spec")).to.deep.equal([]);
    expect(validate({ url: "https://x/y.git", interval: "1m", ref: { branch: "main" } }, gitRepositorySpec, "spec")).to.deep.equal([]);
    expect(validate({ interval: "1m" }, gitRepositorySpec, "spec")).to.deep.equal([{ property: "spec.url", reason: "is required" }]);
  });
});
