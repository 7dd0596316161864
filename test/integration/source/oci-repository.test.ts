import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OCIRepository } from "../../../controllers/api/source/v1/oci-repository";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { OciRegistry, conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

function contentDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-oci-src-"));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  return dir;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).to.equal(200);
  return Buffer.from(await res.arrayBuffer());
}

function listTar(buf: Buffer): string[] {
  const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gitops-t-")), "a.tar.gz");
  fs.writeFileSync(f, buf);
  return execFileSync("tar", ["-tzf", f], { encoding: "utf8" }).split("\n").filter((l) => l && !l.endsWith("/")).sort();
}

describe("OCIRepository: artifacts pulled from a registry", function () {
  let ctl: RunningControllers;
  let reg: OciRegistry;
  let v1: string;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    reg = await OciRegistry.start();
    v1 = await reg.push("app:v1.0.0", contentDir({ "deploy/app.yaml": "kind: ConfigMap\n", "README.md": "hi\n", ".github/ci.yml": "x: 1\n", "logo.png": "png" }),
      { source: "https://github.com/example/app.git", revision: "main@sha1:1111111111111111111111111111111111111111" });
    await reg.tag("app:v1.0.0", "latest");
  });
  after(async () => { await ctl?.stop(); await reg?.close(); });

  it("stores the pushed content with Flux's revision, path, digest and annotations", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "app", { url: reg.url("app"), insecure: true, ref: { tag: "v1.0.0" } });
    const repo = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `v1.0.0@${v1}` });
    const a = repo.status!.artifact!;
    expect(a.path).to.equal(`ocirepository/${ns}/app/${v1}.tar.gz`);
    expect(a.metadata).to.include({ "org.opencontainers.image.source": "https://github.com/example/app.git",
      "org.opencontainers.image.revision": "main@sha1:1111111111111111111111111111111111111111" });
    const body = await download(a.url);
    expect(body.length).to.equal(a.size);
    expect(`sha256:${createHash("sha256").update(body).digest("hex")}`).to.equal(a.digest);
    expect(listTar(body)).to.deep.equal(["README.md", "deploy/app.yaml"]);
    expect(conditionOf(repo, "Ready")).to.include({ reason: "Succeeded", message: `stored artifact for digest 'v1.0.0@${v1}'` });
    expect(conditionOf(repo, "ArtifactInStorage")).to.include({ status: "True", reason: "Succeeded" });
    expect(repo.status!.observedGeneration).to.equal(repo.metadata.generation);
    expect(repo.metadata.finalizers).to.include("finalizers.fluxcd.io");
  });

  it("defaults to the latest tag and records a NewArtifact event with the origin revision", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "app", { url: reg.url("app"), insecure: true });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `latest@${v1}` });
    const events = { group: "", version: "v1", plural: "events", kind: "Event" };
    const ev = await eventually(async () => (await ctl.client.list<{ reason: string; message: string; metadata: { annotations?: Record<string, string> } }>(events, { namespace: ns }))
      .items.find((e) => e.reason === "NewArtifact"), { what: "NewArtifact event" });
    expect(ev.message).to.equal(`stored artifact with revision 'latest@${v1}' from '${reg.url("app")}', origin source 'https://github.com/example/app.git', origin revision 'main@sha1:1111111111111111111111111111111111111111'`);
    expect(ev.metadata.annotations).to.include({ "source.toolkit.fluxcd.io/revision": `latest@${v1}` });
  });

  it("only HEADs the manifest while the digest is unchanged, and pulls a moved tag", async function () {
    const ns = await newNamespace();
    await reg.push("moving:stable", contentDir({ "a.yaml": "a: 1\n" }));
    await createSource(ctl, ociRepositories, ns, "m", { url: reg.url("moving"), insecure: true, ref: { tag: "stable" } });
    const first = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "m", { ready: "True" });
    const blobs = () => reg.count("GET", /^\/v2\/moving\/blobs\//);
    const heads = () => reg.count("HEAD", /^\/v2\/moving\/manifests\/stable$/);
    const [b0, h0] = [blobs(), heads()];
    await requestReconcile(ctl.client, ociRepositories, ns, "m", "again");
    const same = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "m", { ready: "True", handled: "again" });
    expect(same.status!.artifact).to.deep.equal(first.status!.artifact);
    expect(heads()).to.equal(h0 + 1);
    expect(blobs()).to.equal(b0);

    const d2 = await reg.push("moving:stable", contentDir({ "a.yaml": "a: 2\n" }));
    await requestReconcile(ctl.client, ociRepositories, ns, "m", "moved");
    const moved = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "m", { ready: "True", revision: `stable@${d2}` });
    expect(blobs()).to.be.greaterThan(b0);
    expect(listTar(await download(moved.status!.artifact!.url))).to.deep.equal(["a.yaml"]);
  });

  it("picks the highest tag in a semver range (with a filter) and pins a digest", async function () {
    const ns = await newNamespace();
    await reg.push("ver:1.1.0", contentDir({ "v.txt": "1.1.0" }));
    const d12 = await reg.push("ver:1.2.0", contentDir({ "v.txt": "1.2.0" }));
    await reg.push("ver:2.0.0", contentDir({ "v.txt": "2.0.0" }));
    const rc = await reg.push("ver:1.3.0-rc.1", contentDir({ "v.txt": "1.3.0-rc.1" }));
    await createSource(ctl, ociRepositories, ns, "range", { url: reg.url("ver"), insecure: true, ref: { semver: ">=1.0.0 <2.0.0" } });
    await createSource(ctl, ociRepositories, ns, "rc", { url: reg.url("ver"), insecure: true, ref: { semver: ">=1.0.0-0", semverFilter: ".*-rc.*" } });
    await createSource(ctl, ociRepositories, ns, "pinned", { url: reg.url("ver"), insecure: true, ref: { digest: d12, tag: "2.0.0" } });
    await waitForSource(ctl.client, ociRepositories, ns, "range", { ready: "True", revision: `1.2.0@${d12}` });
    await waitForSource(ctl.client, ociRepositories, ns, "rc", { ready: "True", revision: `1.3.0-rc.1@${rc}` });
    const pinned = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "pinned", { ready: "True", revision: d12 });
    expect(pinned.status!.artifact!.path).to.equal(`ocirepository/${ns}/pinned/${d12}.tar.gz`);
  });

  it("applies spec.ignore and .sourceignore, and rebuilds when the ignore rules change", async function () {
    const ns = await newNamespace();
    await reg.push("ign:v1", contentDir({ "keep.yaml": "k\n", "drop.md": "d\n", "sub/.sourceignore": "*.txt\n", "sub/x.txt": "x\n", "sub/y.yaml": "y\n" }));
    await createSource(ctl, ociRepositories, ns, "i", { url: reg.url("ign"), insecure: true, ref: { tag: "v1" }, ignore: "*.md\n" });
    const r = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "i", { ready: "True" });
    expect(listTar(await download(r.status!.artifact!.url))).to.deep.equal(["keep.yaml", "sub/.sourceignore", "sub/y.yaml"]);
    expect(r.status!.observedIgnore).to.equal("*.md\n");
    await ctl.client.patch(ociRepositories, { namespace: ns, name: "i" }, { spec: { ignore: "sub/\n" } });
    const again = await eventually(async () => {
      const o = await ctl.client.get<OCIRepository>(ociRepositories, { namespace: ns, name: "i" });
      return o?.status?.observedIgnore === "sub/\n" && o.status.observedGeneration === o.metadata.generation ? o : undefined;
    }, { what: "rebuild with new ignore rules" });
    expect(listTar(await download(again.status!.artifact!.url))).to.deep.equal(["drop.md", "keep.yaml"]);
  });

  it("copies the selected layer as is with layerSelector operation copy", async function () {
    const ns = await newNamespace();
    const d = await reg.push("copy:v1", contentDir({ "c.yaml": "c: 1\n" }));
    await createSource(ctl, ociRepositories, ns, "c", { url: reg.url("copy"), insecure: true, ref: { tag: "v1" },
      layerSelector: { mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", operation: "copy" } });
    const r = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "c", { ready: "True", revision: `v1@${d}` });
    const manifest = await (await fetch(`http://${reg.host}/v2/copy/manifests/v1`, { headers: { accept: "application/vnd.oci.image.manifest.v1+json" } })).json() as { layers: Array<{ digest: string }> };
    expect(r.status!.artifact!.digest).to.equal(manifest.layers[0].digest);
    expect(r.status!.observedLayerSelector).to.deep.equal({ mediaType: "application/vnd.cncf.flux.content.v1.tar+gzip", operation: "copy" });
  });

  it("removes the stored artifacts when the object is deleted", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "gone", { url: reg.url("app"), insecure: true, ref: { tag: "v1.0.0" } });
    const r = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "gone", { ready: "True" });
    const file = path.join(ctl.storageDir, r.status!.artifact!.path);
    expect(fs.existsSync(file)).to.equal(true);
    await ctl.client.delete(ociRepositories, { namespace: ns, name: "gone" });
    await eventually(async () => !(await ctl.client.get(ociRepositories, { namespace: ns, name: "gone" })) && !fs.existsSync(file), { what: "object and artifact gone" });
  });
});
