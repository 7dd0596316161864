// The copy semantics of ArtifactGenerator (spec: source-watcher docs/spec/v1beta1/artifactgenerators.md,
// "Copy Operations" and "Copy Strategies"), over in-memory file trees, and the content hash
// that names the artifact.
import { expect } from "chai";
import * as zlib from "node:zlib";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { CopyOperation } from "../../../controllers/api/source-extensions/v1beta1/artifact-generator";
import { applyCopy, buildArtifact, contentHash } from "../../../controllers/source-watcher/builder";
import { Storage } from "../../../controllers/runtime/artifact-storage";
import { readTar } from "../../../controllers/runtime/tar-reader";
import type { FileTree } from "../../../controllers/runtime/tar-reader";

const tree = (files: Record<string, string>): FileTree => new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));
const run = (ops: CopyOperation[], sources: Record<string, FileTree>): Record<string, string> => {
  const staging: FileTree = new Map();
  for (const op of ops) applyCopy(op, new Map(Object.entries(sources)), staging);
  return Object.fromEntries([...staging].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toString()]));
};

describe("ArtifactGenerator copy operations", () => {
  const src = tree({ "config.yaml": "a: 1\n", "configs/x.yaml": "x\n", "configs/y.md": "y\n", "configs/sub/z.yaml": "z\n", "configs/testdata/t.yaml": "t\n" });

  it("copies a file to a path, into a directory (trailing slash), and a glob into a directory", () => {
    expect(run([{ from: "@s/config.yaml", to: "@artifact/apps/app.yaml" }], { s: src })).to.deep.equal({ "apps/app.yaml": "a: 1\n" });
    expect(run([{ from: "@s/config.yaml", to: "@artifact/apps/" }], { s: src })).to.deep.equal({ "apps/config.yaml": "a: 1\n" });
    expect(run([{ from: "@s/configs/*.yaml", to: "@artifact/apps/" }], { s: src })).to.deep.equal({ "apps/configs/x.yaml": "x\n" });
  });

  it("copies `dir/` as a subdirectory and `dir/**` as its contents, with excludes relative to either root", () => {
    expect(Object.keys(run([{ from: "@s/configs/", to: "@artifact/apps/" }], { s: src }))).to.deep.equal(
      ["apps/configs/sub/z.yaml", "apps/configs/testdata/t.yaml", "apps/configs/x.yaml", "apps/configs/y.md"]);
    expect(run([{ from: "@s/configs/**", to: "@artifact/apps/", exclude: ["*.md", "**/testdata/**", "sub/**"] }], { s: src }))
      .to.deep.equal({ "apps/x.yaml": "x\n" });
  });

  it("fails with Flux's messages on a missing path, an empty match and an unknown alias", () => {
    expect(() => run([{ from: "@s/nope.yaml", to: "@artifact/" }], { s: src })).to.throw("source 'nope.yaml' does not exist");
    expect(() => run([{ from: "@s/*.json", to: "@artifact/" }], { s: src })).to.throw("no files match pattern '*.json' in source 's'");
    expect(() => run([{ from: "@other/x", to: "@artifact/" }], { s: src })).to.throw("source alias 'other' not found");
  });

  it("Merge merges YAML maps as Helm values (arrays replaced); Overwrite replaces", () => {
    const chart = tree({ "podinfo/values.yaml": "replicas: 1\nimage: {tag: a, repo: r}\nlist: [1, 2]\n" });
    const git = tree({ "prod.yaml": "image: {tag: b}\nlist: [3]\n" });
    const merged = run([{ from: "@chart/", to: "@artifact/" }, { from: "@git/prod.yaml", to: "@artifact/podinfo/values.yaml", strategy: "Merge" }], { chart, git });
    expect(merged["podinfo/values.yaml"]).to.equal("replicas: 1\nimage:\n  tag: b\n  repo: r\nlist:\n  - 3\n");
    const over = run([{ from: "@chart/", to: "@artifact/" }, { from: "@git/prod.yaml", to: "@artifact/podinfo/values.yaml" }], { chart, git });
    expect(over["podinfo/values.yaml"]).to.equal("image: {tag: b}\nlist: [3]\n");
  });

  it("Extract unpacks .tgz archives (globs skip other files) and refuses a non-archive file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sw-tgz-"));
    fs.mkdirSync(path.join(dir, "chart/templates"), { recursive: true });
    fs.writeFileSync(path.join(dir, "chart/Chart.yaml"), "name: chart\n");
    fs.writeFileSync(path.join(dir, "chart/templates/cm.yaml"), "kind: ConfigMap\n");
    const tgz = zlib.gzipSync(execFileSync("tar", ["-cf", "-", "-C", dir, "chart"]));
    fs.rmSync(dir, { recursive: true, force: true });
    const s = new Map([["releases/v1/chart-1.0.0.tgz", tgz], ["releases/README.md", Buffer.from("x")]]);
    expect(Object.keys(run([{ from: "@s/releases/**/*.tgz", to: "@artifact/", strategy: "Extract" }], { s }))).to.deep.equal(["chart/Chart.yaml", "chart/templates/cm.yaml"]);
    expect(() => run([{ from: "@s/releases/README.md", to: "@artifact/", strategy: "Extract" }], { s })).to.throw("extract strategy requires tarball file");
  });

  it("names content by a hash of file names and contents only", () => {
    const a = contentHash("app", tree({ "a.yaml": "1", "b/c.yaml": "2" }));
    expect(a).to.match(/^\d+$/);
    expect(contentHash("app", tree({ "b/c.yaml": "2", "a.yaml": "1" }))).to.equal(a);
    expect(contentHash("app", tree({ "a.yaml": "1", "b/c.yaml": "3" }))).to.not.equal(a);
    expect(contentHash("other", tree({ "a.yaml": "1", "b/c.yaml": "2" }))).to.not.equal(a);
  });

  it("keeps the execute bit of copied and extracted files in the archive (0755, else 0644), whatever the umask", async () => {
    // Sources as the real tar writes them, with a script marked executable.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sw-modes-"));
    fs.mkdirSync(path.join(dir, "src/bin"), { recursive: true });
    fs.writeFileSync(path.join(dir, "src/bin/run.sh"), "#!/bin/sh\n", { mode: 0o755 });
    fs.writeFileSync(path.join(dir, "src/cm.yaml"), "kind: ConfigMap\n", { mode: 0o644 });
    const srcTree = readTar(execFileSync("tar", ["-cf", "-", "-C", path.join(dir, "src"), "."]));
    expect([...srcTree.executables ?? []]).to.deep.equal(["bin/run.sh"]);
    const inner = zlib.gzipSync(execFileSync("tar", ["-cf", "-", "-C", dir, "src/bin"]));
    const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "sw-modes-storage-"));
    const umask = process.umask(0o000);
    try {
      const storage = new Storage(storageDir, "127.0.0.1:1");
      const sources = new Map([["s", srcTree], ["t", new Map([["tools.tgz", inner]])]]);
      const a = await buildArtifact({ name: "out", copy: [
        { from: "@s/**", to: "@artifact/" },
        { from: "@t/tools.tgz", to: "@artifact/extracted/", strategy: "Extract" },
      ] }, sources, "ns", storage);
      const listing = execFileSync("tar", ["-tvzf", path.join(storageDir, a.path)]).toString().trim().split("\n")
        .map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f[f.length - 1]}`; }).sort();
      expect(listing).to.deep.equal(["-rw-r--r-- cm.yaml", "-rwxr-xr-x bin/run.sh", "-rwxr-xr-x extracted/src/bin/run.sh"]);
    } finally {
      process.umask(umask);
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(storageDir, { recursive: true, force: true });
    }
  });
});
