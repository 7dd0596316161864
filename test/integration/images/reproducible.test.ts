// Same inputs, same image: a second build gives byte-identical manifests (same digests).
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTROLLERS, buildImages, pushedImages } from "../../support/images";

describe("images: reproducible build", function () {
  this.timeout(900_000);

  it("a second build gives the same digest for every image, and the same layout files", async () => {
    const first = (await pushedImages()).build;
    const second = await buildImages();
    console.log(`      build times: ${first.seconds.toFixed(0)} s (with push), ${second.seconds.toFixed(0)} s (warm)`);
    for (const c of CONTROLLERS) {
      const name = c;
      expect(second.images[name].digest, name).to.equal(first.images[name].digest);
      expect(second.images[name].size).to.equal(first.images[name].size);
      const idx = (b: typeof first) => fs.readFileSync(path.join(b.out, name, "index.json"), "utf8");
      expect(idx(second)).to.equal(idx(first));
      const tarSum = (b: typeof first) => fs.statSync(path.join(b.out, `${name}.tar`)).size;
      expect(tarSum(second)).to.equal(tarSum(first));
    }
  });
});
