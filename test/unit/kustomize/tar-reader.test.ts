import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TarError, normalize, readTar } from "../../../controllers/runtime/tar-reader";

function tarOf(files: Record<string, string>, extra: string[] = []): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tar-test-"));
  try {
    for (const [p, c] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true });
      fs.writeFileSync(path.join(dir, p), c);
    }
    return execFileSync("tar", ["-c", ...extra, "-C", dir, "."]);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

describe("kustomize: in-memory tar reader", function () {
  it("reads regular files of a GNU tar with normalized paths", () => {
    const long = `${"deep/".repeat(30)}file.yaml`;
    const files = readTar(tarOf({ "a.yaml": "a", "dir/b.yaml": "bb", [long]: "long" }, ["--format=gnu"]));
    expect([...files.keys()].sort()).to.deep.equal(["a.yaml", "dir/b.yaml", long].sort());
    expect(files.get("dir/b.yaml")?.toString()).to.equal("bb");
    expect(files.get(long)?.toString()).to.equal("long");
  });

  it("reads pax long names", () => {
    const long = `${"p".repeat(120)}/x.yaml`;
    const files = readTar(tarOf({ [long]: "x" }, ["--format=pax"]));
    expect(files.get(long)?.toString()).to.equal("x");
  });

  it("refuses entries that leave the root and corrupt headers", () => {
    expect(() => normalize("../etc/passwd")).to.throw(TarError);
    expect(() => normalize("/etc/passwd")).to.throw(TarError);
    expect(normalize("./a/./b/")).to.equal("a/b");
    const buf = tarOf({ "a.yaml": "a" });
    buf[100] ^= 0xff;
    expect(() => readTar(buf)).to.throw(TarError, "checksum");
  });
});
