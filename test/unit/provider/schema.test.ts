// The package schema is generated from the same schema values as the CRDs; the committed
// sdk/schema.json (the input of the generated SDKs) must be the plugin's current schema.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSchema } from "../../../provider/schema/package";
import { typedKinds } from "../../../provider/resources/kinds";
import { allKinds } from "../../../controllers/api/registry";

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

  it("types the image and source-watcher kinds per spec field, from controllers/api", () => {
    type Res = { inputProperties: Record<string, { $ref?: string }>; properties: Record<string, { $ref?: string }> };
    const s = buildSchema() as { resources: Record<string, Res>; types: Record<string, { properties: Record<string, unknown>; required?: string[] }> };
    const typeOf = (ref: string | undefined) => s.types[ref!.replace("#/types/", "")]!;
    const expected: Record<string, { spec: string[]; required: string[]; status: string[] }> = {
      ImageRepository: { spec: ["image", "interval", "secretRef", "certSecretRef", "exclusionList", "insecure"], required: ["image", "interval"], status: ["lastScanResult", "canonicalImageName"] },
      ImagePolicy: { spec: ["imageRepositoryRef", "policy", "filterTags", "digestReflectionPolicy"], required: ["imageRepositoryRef", "policy"], status: ["latestRef"] },
      ArtifactGenerator: { spec: ["sources", "artifacts"], required: ["sources", "artifacts"], status: ["inventory"] },
      // Typed as soon as controllers/api defines the kind (until then its spec is free-form).
      ...(allKinds.some((k) => k.names.kind === "ImageUpdateAutomation")
        ? { ImageUpdateAutomation: { spec: ["sourceRef", "git", "interval", "update", "policySelector"], required: ["sourceRef", "interval"], status: ["lastPushCommit", "lastPushTime"] } }
        : {}),
    };
    for (const [kind, want] of Object.entries(expected)) {
      const r = s.resources[`gitops:index:${kind}`]!;
      const spec = typeOf(r.inputProperties.spec!.$ref);
      expect(Object.keys(spec.properties), kind).to.include.members(want.spec);
      expect(spec.required ?? [], kind).to.include.members(want.required);
      expect(Object.keys(typeOf(r.properties.status!.$ref).properties), kind).to.include.members(want.status);
    }
  });

  it("is what sdk/schema.json holds (regenerate with: bash provider/codegen/gen-sdk.sh)", () => {
    const committed = JSON.parse(fs.readFileSync(path.join(root, "sdk", "schema.json"), "utf8")) as object;
    expect(committed).to.deep.equal(JSON.parse(JSON.stringify(buildSchema())));
  });
});
