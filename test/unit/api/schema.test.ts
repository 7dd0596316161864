/**
 * The schema builder (controllers/api/schema.ts): the values it returns are the OpenAPI schemas
 * that go into CRDs, and the types `Static` derives from them. Type assertions below are checked
 * by the compiler: a wrong derived type fails the build.
 */
import { expect } from "chai";
import { allCrds } from "../../../controllers/api/registry";
import { T, type SchemaProps, type Static } from "../../../controllers/api/schema";
import type { GitRepositorySpec } from "../../../controllers/api/source/v1/git-repository";
import type { KustomizationSpec } from "../../../controllers/api/kustomize/v1/kustomization";
import type { HelmReleaseSpec } from "../../../controllers/api/helm/v2/helm-release";

/** Compiles only when A and B are the same type. */
type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const assertType = <_ extends true>() => undefined;

describe("schema builder: scalar schemas", () => {
  it("builds a string with pattern, default, length limits and description", () => {
    const s = T.String({ description: "d", pattern: "^a$", default: "a", minLength: 1, maxLength: 3, format: "x" });
    expect(s).to.deep.equal({ type: "string", description: "d", pattern: "^a$", default: "a", minLength: 1, maxLength: 3, format: "x" });
    assertType<Equals<Static<typeof s>, string>>();
  });

  it("takes a bare string as the description", () => {
    expect(T.Boolean("on or off")).to.deep.equal({ type: "boolean", description: "on or off" });
  });

  it("turns an enum into a string schema and a union of literals", () => {
    const s = T.Enum(["generic", "aws"], { default: "generic" });
    expect(s).to.deep.equal({ type: "string", enum: ["generic", "aws"], default: "generic" });
    assertType<Equals<Static<typeof s>, "generic" | "aws">>();
    const fromConst = T.Enum(Object.values({ A: "a", B: "b" } as const));
    assertType<Equals<Static<typeof fromConst>, "a" | "b">>();
  });

  it("builds integers and numbers with format, bounds and default", () => {
    const i = T.Integer({ format: "int64", minimum: 0, maximum: 9, default: 1 });
    expect(i).to.deep.equal({ type: "integer", format: "int64", minimum: 0, maximum: 9, default: 1 });
    expect(T.Number()).to.deep.equal({ type: "number" });
    assertType<Equals<Static<typeof i>, number>>();
  });

  it("marks int-or-string the way Kubernetes expects", () => {
    const s = T.IntOrString();
    expect(s).to.deep.equal({ "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] });
    assertType<Equals<Static<typeof s>, number | string>>();
  });
});

describe("schema builder: objects, arrays and maps", () => {
  const ref = T.Object({ name: T.String() }, "a ref");
  const obj = T.Object(
    {
      url: T.String(),
      interval: T.String(),
      timeout: T.Optional(T.String({ default: "60s" })),
      ref: T.Optional(ref),
      tags: T.Optional(T.Array(T.String())),
      labels: T.Optional(T.Map(T.String())),
    },
    { description: "spec", validations: [{ rule: "has(self.url)", message: "url is needed" }] },
  );

  it("lists required properties sorted and leaves optional ones out", () => {
    expect(obj.required).to.deep.equal(["interval", "url"]);
    expect(Object.keys(obj.properties!)).to.deep.equal(["url", "interval", "timeout", "ref", "tags", "labels"]);
    expect(obj.properties!.timeout).to.deep.equal({ type: "string", default: "60s" });
  });

  it("derives `?:` for optional properties and plain keys for required ones", () => {
    type O = Static<typeof obj>;
    assertType<
      Equals<
        O,
        {
          url: string;
          interval: string;
          timeout?: string;
          ref?: { name: string };
          tags?: string[];
          labels?: Record<string, string>;
        }
      >
    >();
  });

  it("emits CEL validations as x-kubernetes-validations", () => {
    expect(obj["x-kubernetes-validations"]).to.deep.equal([{ rule: "has(self.url)", message: "url is needed" }]);
    expect(obj).not.to.have.property("validations");
  });

  it("omits empty `required` and `properties`", () => {
    expect(T.Object({})).to.deep.equal({ type: "object" });
    expect(T.Object({ a: T.Optional(T.String()) })).not.to.have.property("required");
  });

  it("builds arrays and maps", () => {
    expect(T.Array(ref, { maxItems: 2 })).to.deep.equal({ type: "array", items: ref, maxItems: 2 });
    expect(T.Map(T.Integer())).to.deep.equal({ type: "object", additionalProperties: { type: "integer" } });
  });

  it("keeps the optional marker out of the schema, even when an optional schema is reused", () => {
    const opt = T.Optional(T.String());
    const arr = T.Array(opt);
    expect(Object.getOwnPropertySymbols(arr.items!)).to.have.length(0);
    expect(Object.getOwnPropertySymbols(obj.properties!.timeout!)).to.have.length(0);
    expect(JSON.parse(JSON.stringify(obj))).to.deep.equal(obj);
  });

  it("supports object defaults, as Flux's status default", () => {
    const status = T.Object({ observedGeneration: T.Optional(T.Integer()) }, { default: { observedGeneration: -1 } });
    expect(status.default).to.deep.equal({ observedGeneration: -1 });
  });
});

describe("schema builder: unstructured fields", () => {
  it("builds an object that keeps unknown fields", () => {
    const s = T.Unstructured("anything");
    expect(s).to.deep.equal({ type: "object", "x-kubernetes-preserve-unknown-fields": true, description: "anything" });
    assertType<Equals<Static<typeof s>, Record<string, unknown>>>();
  });

  it("builds an untyped JSON field, typed as the caller says", () => {
    const values = T.Json<Record<string, unknown>>();
    expect(values).to.deep.equal({ "x-kubernetes-preserve-unknown-fields": true });
    assertType<Equals<Static<typeof values>, Record<string, unknown>>>();
  });
});

describe("kind types derived from the schemas", () => {
  it("types GitRepository's spec as Flux defines it", () => {
    assertType<Equals<GitRepositorySpec["url"], string>>();
    assertType<Equals<GitRepositorySpec["timeout"], string | undefined>>();
    assertType<Equals<GitRepositorySpec["provider"], "generic" | "aws" | "azure" | "github" | undefined>>();
    assertType<Equals<NonNullable<GitRepositorySpec["verify"]>["mode"], "head" | "HEAD" | "Tag" | "TagAndHEAD" | undefined>>();
    const spec: GitRepositorySpec = { url: "https://example.com/repo", interval: "1m", ref: { branch: "main" } };
    expect(spec.ref?.branch).to.equal("main");
  });

  it("types Kustomization's required fields as required", () => {
    assertType<Equals<KustomizationSpec["prune"], boolean>>();
    assertType<Equals<KustomizationSpec["sourceRef"]["kind"], "OCIRepository" | "GitRepository" | "Bucket" | "ExternalArtifact">>();
  });

  it("types HelmRelease values as a free-form object", () => {
    assertType<Equals<HelmReleaseSpec["values"], Record<string, unknown> | undefined>>();
  });
});

/** Problems that make a CRD schema non-structural or its defaults invalid. */
function structuralProblems(s: SchemaProps, path: string): string[] {
  const out: string[] = [];
  const untyped = s["x-kubernetes-preserve-unknown-fields"] || s["x-kubernetes-int-or-string"];
  if (!s.type && !untyped) out.push(`${path}: no type`);
  if (s.type === "array" && !s.items) out.push(`${path}: array without items`);
  if (s.properties && s.additionalProperties) out.push(`${path}: both properties and additionalProperties`);
  for (const r of s.required ?? []) if (!s.properties?.[r]) out.push(`${path}.${r}: required but undefined`);
  if (s.default !== undefined) {
    const d = s.default;
    if (s.type === "string" && typeof d !== "string") out.push(`${path}: default is not a string`);
    if (s.type === "boolean" && typeof d !== "boolean") out.push(`${path}: default is not a boolean`);
    if (s.type === "object" && (typeof d !== "object" || d === null)) out.push(`${path}: default is not an object`);
    if (s.enum && !s.enum.includes(d)) out.push(`${path}: default ${JSON.stringify(d)} not in enum`);
    if (s.pattern && typeof d === "string" && !new RegExp(s.pattern).test(d)) out.push(`${path}: default fails pattern`);
  }
  for (const [k, v] of Object.entries(s.properties ?? {})) out.push(...structuralProblems(v, `${path}.${k}`));
  if (s.items) out.push(...structuralProblems(s.items, `${path}[]`));
  if (s.additionalProperties) out.push(...structuralProblems(s.additionalProperties, `${path}{}`));
  return out;
}

describe("generated CRD schemas", () => {
  for (const crd of allCrds()) {
    it(`${crd.spec.names.kind} is structural and its defaults satisfy their own schema`, () => {
      const problems = crd.spec.versions.flatMap((v) => structuralProblems(v.schema.openAPIV3Schema, v.name));
      expect(problems).to.deep.equal([]);
    });
  }
});
