// spec.pathPattern expansion (source-watcher docs/spec/v1beta1/artifactgenerators.md, "Path Pattern
// (Directory Discovery)"): one instance of spec.artifacts per matching directory, captures
// lowercased in names and labels, kept as-is in copy paths, and the spec's terminal errors.
import { expect } from "chai";
import { expandArtifacts, PathPatternError } from "../../../controllers/source-watcher/path-pattern";
import type { FileTree } from "../../../controllers/runtime/tar-reader";

const tree = (...files: string[]): FileTree => new Map(files.map((f) => [f, Buffer.from("x")]));
const template = [{ name: "{app}-{env}", copy: [{ from: "@repo/apps/{app}/envs/{env}/**", to: "@artifact/" }] }];

describe("ArtifactGenerator pathPattern", () => {
  it("instantiates the artifacts per matching directory, in directory-walk order", () => {
    const src = tree("apps/Auth/envs/prod/a.yaml", "apps/Auth/envs/dev/b.yaml", "apps/web/envs/prod/c.yaml", "apps/web/envs/prod/deep/d.yaml", "apps/web/README.md", "apps/web-x/envs/qa/e.yaml");
    const out = expandArtifacts("@repo/apps/{app}/envs/{env}", template, new Map([["repo", src]]));
    expect(out.map((r) => r.artifact.name)).to.deep.equal(["auth-dev", "auth-prod", "web-prod", "web-x-qa"]);
    expect(out[0]!.labels).to.deep.equal({ app: "auth", env: "dev" });
    // Copy paths keep the directory's case; names and labels are lowercased.
    expect(out[0]!.artifact.copy[0]).to.deep.equal({ from: "@repo/apps/Auth/envs/dev/**", to: "@artifact/" });
  });

  it("keeps spec.artifacts as they are without a pathPattern, and gives none when nothing matches", () => {
    expect(expandArtifacts(undefined, template, new Map())).to.deep.equal([{ artifact: template[0], labels: {} }]);
    expect(expandArtifacts("@repo/apps/{app}/envs/{env}", template, new Map([["repo", tree("other/x.yaml")]]))).to.deep.equal([]);
  });

  it("refuses what the spec refuses, saying what to fix", () => {
    const src = new Map([["repo", tree("apps/a/envs/p/x.yaml", "apps/A/envs/p/y.yaml", "apps/.hidden/envs/p/z.yaml")]]);
    const err = (pattern: string, artifacts = template, sources = src) => {
      try { expandArtifacts(pattern, artifacts, sources); } catch (e) { expect(e).to.be.instanceOf(PathPatternError); return (e as Error).message; }
      throw new Error("expected an error");
    };
    expect(err("@nope/apps/{app}")).to.equal(`pathPattern "@nope/apps/{app}": source alias nope not found in local sources`);
    expect(err("@repo/apps/{app}/{app}")).to.equal(`pathPattern "@repo/apps/{app}/{app}": duplicate capture variable "app"`);
    expect(err("@repo/apps/{app")).to.match(/missing closing brace/);
    expect(err("@repo/apps/{1app}")).to.match(/capture variable "1app" must be a valid capture name/);
    expect(err("@repo/apps/{_app}")).to.match(/capture variable "_app" is not a valid Kubernetes label key/);
    // "apps/A" and "apps/a" lowercase to the same name.
    const onlyCase = new Map([["repo", tree("apps/a/envs/p/x.yaml", "apps/A/envs/p/y.yaml")]]);
    expect(err("@repo/apps/{app}/envs/{env}", template, onlyCase)).to.equal(`pathPattern "@repo/apps/{app}/envs/{env}": directories "apps/A/envs/p" and "apps/a/envs/p" both resolve to artifact name "a-p"`);
    expect(err("@repo/apps/{app}/envs/{env}")).to.match(/captured value "\.hidden" for variable "app" is not a valid Kubernetes label value/);
    const noEnv = [{ name: "{app}-{region}", copy: [{ from: "@repo/apps/{app}/**", to: "@artifact/" }] }];
    expect(err("@repo/apps/{app}", noEnv, new Map([["repo", tree("apps/a/x.yaml")]]))).to.equal(
      `pathPattern "@repo/apps/{app}": failed to render artifact {app}-{region} for match apps/a: invalid template "{app}-{region}": capture variable "region" is not defined by pathPattern`);
    const dotted = [{ name: "{app}_x", copy: [{ from: "@repo/apps/{app}/**", to: "@artifact/" }] }];
    expect(err("@repo/apps/{app}", dotted, new Map([["repo", tree("apps/a/x.yaml")]]))).to.match(/rendered artifact name "a_x" is not a valid Kubernetes object name/);
  });
});
