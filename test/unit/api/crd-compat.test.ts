/**
 * The schema oracle: every CRD we generate is compared, field path by field path, with the CRD
 * Flux ships for the same kind (loaded from the upstream Go module, see flux-upstream.ts).
 * Types, enums, defaults, patterns, formats, limits, CEL rules, preserve-unknown-fields and
 * required-ness must match; descriptions are our own and are not compared.
 *
 * Versions: we serve only the storage version (source and kustomize v1, helm v2). Flux may also
 * serve deprecated older versions (v1beta2, v2beta2, ...) in some releases; we may leave those out,
 * so only Flux's storage version is compared, and every version we serve must exist upstream.
 * (The releases targeted here, source/kustomize-controller v1.9.5 and helm-controller v1.6.4,
 * serve nothing else.)
 *
 * Without Go or the module proxy the tests fail, saying so: they never skip.
 */
import { expect } from "chai";
import { isDeepStrictEqual } from "node:util";
import type { CustomResourceDefinition } from "../../../controllers/api/crd";
import { allCrds, crdFileName } from "../../../controllers/api/registry";
import { fluxCrdFiles, fluxModules, loadFluxCrd } from "./flux-upstream";
import { diffSchemas } from "./schema-diff";

/** Differences between Flux's CRD and ours outside the schema. */
function diffCrds(upstream: Record<string, any>, ours: CustomResourceDefinition): string[] {
  const diffs: string[] = [];
  const same = (what: string, up: unknown, our: unknown) => {
    if (!isDeepStrictEqual(up, our)) diffs.push(`${what}: ours ${JSON.stringify(our)}, Flux ${JSON.stringify(up)}`);
  };
  same("metadata.name", upstream.metadata.name, ours.metadata.name);
  same(
    "metadata.annotations[kustomize.toolkit.fluxcd.io/substitute]",
    upstream.metadata.annotations?.["kustomize.toolkit.fluxcd.io/substitute"],
    ours.metadata.annotations?.["kustomize.toolkit.fluxcd.io/substitute"],
  );
  same("spec.group", upstream.spec.group, ours.spec.group);
  same("spec.scope", upstream.spec.scope, ours.spec.scope);
  same("spec.names", upstream.spec.names, ours.spec.names);

  const upStorage = upstream.spec.versions.find((v: any) => v.storage);
  const ourStorage = ours.spec.versions.find((v) => v.storage);
  same("storage version", upStorage?.name, ourStorage?.name);
  for (const v of ours.spec.versions) {
    if (!upstream.spec.versions.some((u: any) => u.name === v.name)) diffs.push(`version ${v.name}: not served by Flux`);
  }
  if (!upStorage || !ourStorage) return diffs;
  same(`${upStorage.name}.served`, upStorage.served, ourStorage.served);
  same(`${upStorage.name}.subresources`, upStorage.subresources, ourStorage.subresources);
  same(`${upStorage.name}.additionalPrinterColumns`, upStorage.additionalPrinterColumns, ourStorage.additionalPrinterColumns);
  for (const d of diffSchemas(upStorage.schema.openAPIV3Schema, ourStorage.schema.openAPIV3Schema)) {
    diffs.push(`${upStorage.name} ${d}`);
  }
  return diffs;
}

describe("Flux CRD compatibility (schema oracle)", function () {
  this.timeout(120_000);

  // notification.toolkit.fluxcd.io: the proxy serves only its Go API module, no CRD YAML;
  // notification-types.test.ts compares those kinds with the Go types' markers instead.
  for (const crd of allCrds().filter((c) => fluxModules[c.spec.group])) {
    const file = crdFileName(crd);
    it(`${crd.spec.names.kind} (${crd.spec.group}) matches Flux's ${file} field by field`, () => {
      const upstream = loadFluxCrd(crd.spec.group, file);
      const diffs = diffCrds(upstream, crd);
      expect(diffs, `${crd.spec.names.kind} differs from Flux:\n  ${diffs.join("\n  ")}\n`).to.deep.equal([]);
    });
  }

  it("defines every kind the upstream controllers ship a CRD for", () => {
    const ours = new Set(allCrds().map(crdFileName));
    const missing = Object.keys(fluxModules)
      .flatMap((group) => fluxCrdFiles(group))
      .filter((f) => !ours.has(f));
    expect(missing, `kinds without a definition: ${missing.join(", ")}`).to.deep.equal([]);
  });
});

describe("the schema differ behind the oracle", () => {
  const upstream = {
    type: "object",
    required: ["url"],
    properties: {
      url: { type: "string", pattern: "^x$" },
      timeout: { type: "string", default: "60s" },
      tags: { type: "array", items: { type: "string", enum: ["a", "b"] } },
      labels: { type: "object", additionalProperties: { type: "string" } },
    },
  };

  it("reports nothing for identical schemas, whatever the descriptions", () => {
    const ours = structuredClone(upstream) as any;
    ours.description = "ours";
    ours.properties.url.description = "also ours";
    expect(diffSchemas(upstream, ours)).to.deep.equal([]);
  });

  it("names the path of a changed default, enum, pattern or map value type", () => {
    const ours = structuredClone(upstream) as any;
    ours.properties.timeout.default = "30s";
    ours.properties.tags.items.enum = ["a"];
    ours.properties.url.pattern = "^y$";
    ours.properties.labels.additionalProperties.type = "integer";
    const diffs = diffSchemas(upstream, ours);
    expect(diffs).to.have.length(4);
    expect(diffs.join("\n")).to.include(".timeout: default").and.include(".tags[]: enum").and.include(".url: pattern");
    expect(diffs.join("\n")).to.include(".labels{}: type");
  });

  it("reports missing, extra and optional-versus-required fields", () => {
    const ours = structuredClone(upstream) as any;
    delete ours.properties.timeout;
    ours.properties.extra = { type: "boolean" };
    ours.required = [];
    expect(diffSchemas(upstream, ours)).to.have.members([
      ".timeout: missing (Flux has it)",
      ".extra: not in Flux's schema",
      ".url: optional here, required in Flux",
    ]);
  });
});
