import { expect } from "chai";
import { filterFiles, rebase } from "../../../controllers/source/ignore";
import { withEmptiedDirs } from "../../../controllers/source/git/gitrepository-reconciler";

describe("source: ignore rules (pure logic)", function () {
  const files = ["README.md", "logo.png", ".github/workflows/ci.yml", "deploy/app.yaml", "deploy/.sops.yaml",
    "apps/.sourceignore", "apps/x/readme.md", "apps/x/app.yaml", "apps/x/.sourceignore", "apps/x/keep.md"];
  const contents: Record<string, string> = { "apps/.sourceignore": "*.md\n", "apps/x/.sourceignore": "!keep.md\n" };
  const read = (f: string) => contents[f] ?? "";

  it("applies Flux's default exclusions", function () {
    expect(filterFiles(["README.md", "logo.png", ".github/workflows/ci.yml", "deploy/app.yaml", "deploy/.sops.yaml"], read))
      .to.deep.equal(["README.md", "deploy/app.yaml"]);
  });

  it("scopes a .sourceignore to its directory, deeper files overriding shallower ones", function () {
    const kept = filterFiles(files, read);
    expect(kept).to.include.members(["apps/x/app.yaml", "apps/x/keep.md", "README.md"]);
    expect(kept).to.not.include("apps/x/readme.md");
  });

  it("lets spec.ignore replace the defaults and come last", function () {
    expect(filterFiles(files, read, "/*\n!/deploy\n")).to.deep.equal(["deploy/.sops.yaml", "deploy/app.yaml"]);
  });

  it("rebases anchored and unanchored patterns onto the subdirectory", function () {
    expect(rebase(["*.md", "/top.yaml", "sub/dir/", "!keep.md"], "apps")).to.deep.equal(["apps/**/*.md", "apps/top.yaml", "apps/sub/dir/", "!apps/**/keep.md"]);
  });

  it("adds directories left without any kept file to the export-ignore list", function () {
    const out = withEmptiedDirs([".github/workflows/ci.yml", "deploy/.sops.yaml"], new Set(["deploy/app.yaml", "README.md"]));
    expect(out).to.have.members([".github/workflows/ci.yml", "deploy/.sops.yaml", ".github/workflows", ".github"]);
  });
});
