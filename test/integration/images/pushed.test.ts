// The four images as a registry serves them after `npm run images -- --push`: OCI manifests,
// the entrypoint, user, environment and labels, and the layers they share.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { repoRoot } from "../../../cli/tools";
import { defOf } from "../../../provider/manifests/controllers";
import { CONTROLLERS, ImageConfig, PREFIX, crane, pushedImages } from "../../support/images";

describe("images: built and pushed to a local registry", function () {
  this.timeout(900_000);
  const configs: Record<string, ImageConfig> = {};
  const layers: Record<string, string[]> = {};

  before(async () => {
    const { registry, build } = await pushedImages();
    for (const c of CONTROLLERS) {
      const ref = `${registry.host}/${PREFIX}/${c}:v0.1.0`;
      expect(await crane(["digest", ref]), `${ref} digest`).to.equal(build.images[c].digest);
      const manifest = JSON.parse(await crane(["manifest", ref])) as { mediaType: string; config: { mediaType: string }; layers: { mediaType: string; digest: string }[] };
      expect(manifest.mediaType).to.equal("application/vnd.oci.image.manifest.v1+json");
      expect(manifest.config.mediaType).to.equal("application/vnd.oci.image.config.v1+json");
      for (const l of manifest.layers) expect(l.mediaType).to.equal("application/vnd.oci.image.layer.v1.tar+gzip");
      layers[c] = manifest.layers.map((l) => l.digest);
      configs[c] = JSON.parse(await crane(["config", ref])) as ImageConfig;
      await crane(["validate", "--remote", ref]);
    }
  });

  it("each runs its controller with Flux's in-pod addresses, under tini, as 65534", () => {
    for (const c of CONTROLLERS) {
      const cfg = configs[c];
      expect(cfg.os).to.equal("linux");
      expect(cfg.architecture).to.equal("amd64");
      expect(cfg.config.User).to.equal("65534:65534");
      expect(cfg.config.Entrypoint.slice(0, 8)).to.deep.equal(["/usr/bin/tini", "--", "/usr/local/bin/node", "/app/dist/cli/main.js",
        "controllers", "run", `--only=${defOf(c).only}`, "--metrics-addr=:8080"]);
      expect(cfg.config.Entrypoint).to.include("--health-addr=:9440");
      expect(cfg.config.Env).to.include.members(["GITOPS_TOOLS=/usr/local", "HOME=/tmp", "PATH=/usr/local/bin:/usr/bin:/bin"]);
    }
    expect(configs["source-controller"].config.Entrypoint).to.include.members(["--storage-path=/data", "--storage-addr=:9090"]);
    expect(configs["image-reflector-controller"].config.Entrypoint).to.include("--image-storage-path=/data");
    expect(configs["notification-controller"].config.Entrypoint).to.include.members(["--events-addr=:9090", "--receiver-addr=:9292"]);
  });

  it("carries the OCI labels source, revision and version, and a zero created time", () => {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
    for (const c of CONTROLLERS) {
      const labels = configs[c].config.Labels;
      expect(labels["org.opencontainers.image.source"]).to.match(/^https:\/\//);
      expect(labels["org.opencontainers.image.revision"]).to.equal(head);
      expect(labels["org.opencontainers.image.version"]).to.equal("v0.1.0");
      expect(labels["org.opencontainers.image.title"]).to.equal(`${c}`);
      expect(configs[c].created).to.equal("0001-01-01T00:00:00Z");
    }
  });

  it("shares the base, node and app layers; only the controller's own layer differs", () => {
    for (const c of CONTROLLERS) expect(layers[c].slice(0, 3), c).to.deep.equal(layers["source-controller"].slice(0, 3));
    for (const c of ["notification-controller", "source-watcher", "image-reflector-controller"]) expect(layers[c], c).to.have.length(3); // no binaries of their own
    const own = ["source-controller", "kustomize-controller", "helm-controller", "image-automation-controller"].map((c) => { expect(layers[c], c).to.have.length(4); return layers[c][3]; });
    expect(new Set(own).size).to.equal(4);
  });
});
