// The package schema is generated from the same schema values as the CRDs; the committed
// sdk/schema.json (the input of the generated SDKs) must be the plugin's current schema.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSchema } from "../../../provider/schema/package";
import { typedKinds } from "../../../provider/resources/kinds";

const root = path.resolve(__dirname, "..", "..", "..", "..");

describe("package schema", () => {
  it("has the components, the deploy-time resources and one typed resource per Flux kind", () => {
    const s = buildSchema() as { resources: Record<string, { isComponent?: boolean; inputProperties: Record<string, { secret?: boolean }> }> };
    expect(s.resources["gitops:index:Bootstrap"]!.isComponent).to.equal(true);
    expect(s.resources["gitops:index:Install"]!.isComponent).to.equal(true);
    for (const k of typedKinds) expect(s.resources[`gitops:index:${k.name}`], k.name).to.not.equal(undefined);
    for (const secret of ["kubeconfig", "ssh", "http", "registryCredentials"]) {
      expect(s.resources["gitops:index:Bootstrap"]!.inputProperties[secret]!.secret, secret).to.equal(true);
    }
  });

  it("is what sdk/schema.json holds (regenerate with: bash provider/codegen/gen-sdk.sh)", () => {
    const committed = JSON.parse(fs.readFileSync(path.join(root, "sdk", "schema.json"), "utf8")) as object;
    expect(committed).to.deep.equal(JSON.parse(JSON.stringify(buildSchema())));
  });
});
