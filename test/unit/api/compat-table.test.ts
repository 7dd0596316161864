// docs/compatibility.md's generator: field paths from the schemas, paths set in an object, and
// the declared limits naming only fields that exist.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readCoverage, renderCompatibility, schemaFields, setPaths } from "../../../controllers/api/compat-table";
import { helmReleaseKind } from "../../../controllers/api/helm/v2/helm-release";

describe("compatibility table generator", () => {
  it("lists nested spec fields with list items as []", () => {
    const paths = schemaFields(helmReleaseKind.spec as never).map((f) => f.path);
    expect(paths).to.include.members(["spec.chart", "spec.chart.spec.chart", "spec.dependsOn", "spec.dependsOn[].name", "spec.upgrade.remediation.retries"]);
  });

  it("finds the paths an object sets, lists included", () => {
    const got = [...setPaths({ interval: "1m", dependsOn: [{ name: "a" }, { name: "b", namespace: "x" }], values: null })].sort();
    expect(got).to.deep.equal(["spec.dependsOn", "spec.dependsOn[].name", "spec.dependsOn[].namespace", "spec.interval"]);
  });

  it("credits a field to the passing test that wrote it, not to a failing one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "compat-"));
    try {
      fs.writeFileSync(path.join(dir, "tests-1.json"), JSON.stringify([
        { file: "dist/test/a.test.js", title: "a ok", start: 1000, end: 2000, passed: true },
        { file: "dist/test/b.test.js", title: "b fails", start: 3000, end: 4000, passed: false },
      ]));
      const write = (at: number, spec: object) => JSON.stringify({ verb: "create", objectRef: { apiGroup: "helm.toolkit.fluxcd.io", resource: "helmreleases" },
        requestObject: { spec }, requestReceivedTimestamp: new Date(at).toISOString(), responseStatus: { code: 201 } });
      fs.writeFileSync(path.join(dir, "audit-1.log"), [write(1500, { interval: "1m" }), write(3500, { suspend: true })].join("\n") + "\n");
      const cov = readCoverage(dir);
      expect([...(cov.byKind.get("HelmRelease")?.get("spec.interval") ?? [])]).to.deep.equal(["test/a.test.ts"]);
      expect(cov.byKind.get("HelmRelease")?.has("spec.suspend")).to.equal(false);
      // Every declared limit names a field of its kind, or rendering throws.
      expect(renderCompatibility(cov)).to.match(/\| `interval` \| string \| yes \| `a\.test\.ts` \|/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
