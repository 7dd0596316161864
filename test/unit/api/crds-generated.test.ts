/**
 * The CRD manifests committed under controllers/api/crds/ are exactly what gen-crds writes from
 * the kind definitions (the same check as `node dist/controllers/api/gen-crds.js --check`).
 */
import { expect } from "chai";
import { parse } from "yaml";
import { checkCrdFiles, renderCrd } from "../../../controllers/api/gen-crds";
import { allCrds } from "../../../controllers/api/registry";

describe("committed CRD manifests", () => {
  it("match the kind definitions (regenerate with node dist/controllers/api/gen-crds.js)", () => {
    expect(checkCrdFiles(), "out-of-date CRD files").to.deep.equal([]);
  });

  it("parse back to the objects they were rendered from", () => {
    for (const crd of allCrds()) expect(parse(renderCrd(crd))).to.deep.equal(JSON.parse(JSON.stringify(crd)));
  });

  it("have one CRD per kind, named <plural>.<group>", () => {
    const names = allCrds().map((c) => c.metadata.name);
    expect(new Set(names).size).to.equal(names.length);
    for (const c of allCrds()) expect(c.metadata.name).to.equal(`${c.spec.names.plural}.${c.spec.group}`);
  });
});
