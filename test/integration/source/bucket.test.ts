import { expect } from "chai";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Bucket } from "../../../controllers/api/source/v1/bucket";
import { buckets } from "../../../controllers/source/bucket/bucket-reconciler";
import { eventually, getCluster, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { fluxCli } from "../../support/flux-cli";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";
import { S3Server } from "../../support/s3-server";
import { createSecret } from "./support";

const md5 = (s: string) => createHash("md5").update(s).digest("hex");
const sha256 = (b: string | Buffer) => createHash("sha256").update(b).digest("hex");
/** The revision Flux computes: sha256 over `<key> <etag>\n` in key order (gofakes3 ETags are MD5s). */
const fluxRevision = (objects: Record<string, string>) =>
  `sha256:${sha256(Object.keys(objects).sort().map((k) => `${k} ${md5(objects[k])}\n`).join(""))}`;

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).to.equal(200);
  return Buffer.from(await res.arrayBuffer());
}

function untar(buf: Buffer): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bucket-t-"));
  fs.writeFileSync(path.join(dir, "a.tar.gz"), buf);
  const names = execFileSync("tar", ["-tzf", "a.tar.gz"], { cwd: dir, encoding: "utf8" }).split("\n").filter((l) => l && !l.endsWith("/")).sort();
  fs.mkdirSync(path.join(dir, "x"));
  execFileSync("tar", ["-xzf", "../a.tar.gz"], { cwd: path.join(dir, "x") });
  const out = Object.fromEntries(names.map((n) => [n, fs.readFileSync(path.join(dir, "x", n), "utf8")]));
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

describe("Bucket: artifacts from an S3-compatible server", function () {
  let ctl: RunningControllers;
  let s3: S3Server;
  let n = 0;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    s3 = await S3Server.start();
  });
  after(async () => { await ctl?.stop(); await s3?.close(); });

  /** A bucket with `objects`, and a namespace with the server's keys in Secret `s3-keys`. */
  async function setup(objects: Record<string, string>): Promise<{ ns: string; bucket: string }> {
    const bucket = `bkt-${++n}-${Math.random().toString(36).slice(2, 7)}`;
    await s3.createBucket(bucket);
    await s3.put(bucket, objects);
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "s3-keys", { accesskey: s3.accessKey, secretkey: s3.secretKey });
    return { ns, bucket };
  }
  const spec = (bucket: string, extra: Record<string, unknown> = {}) =>
    ({ bucketName: bucket, endpoint: s3.endpoint, insecure: true, secretRef: { name: "s3-keys" }, ...extra });
  const objectGets = (bucket: string) => s3.count("GET", new RegExp(`^/${bucket}/[^?]`));
  const lists = (bucket: string) => s3.count("GET", new RegExp(`^/${bucket}\\?list-type=2`));

  it("stores the objects under spec.prefix minus the .sourceignore and default exclusions, with Flux's revision, path and event", async function () {
    const { ns, bucket } = await setup({
      ".sourceignore": "**/skip.yaml\n", "deploy/app.yaml": "kind: ConfigMap\n", "deploy/sub/b.yaml": "b: 1\n",
      "deploy/skip.yaml": "s: 1\n", "deploy/logo.png": "png", "deploy/.github/ci.yml": "x: 1\n", "other/o.yaml": "o: 1\n",
    });
    await createSource(ctl, buckets, ns, "app", spec(bucket, { prefix: "deploy/" }));
    const revision = fluxRevision({ "deploy/app.yaml": "kind: ConfigMap\n", "deploy/sub/b.yaml": "b: 1\n" });
    const b = await waitForSource<Bucket>(ctl.client, buckets, ns, "app", { ready: "True", revision });
    const a = b.status!.artifact!;
    expect(a.path).to.equal(`bucket/${ns}/app/${revision.slice(7)}.tar.gz`);
    const body = await download(a.url);
    expect(body.length).to.equal(a.size);
    expect(`sha256:${sha256(body)}`).to.equal(a.digest);
    expect(untar(body)).to.deep.equal({ "deploy/app.yaml": "kind: ConfigMap\n", "deploy/sub/b.yaml": "b: 1\n" });
    expect(conditionOf(b, "Ready")).to.include({ reason: "Succeeded", message: `stored artifact for revision '${revision}'` });
    expect(conditionOf(b, "ArtifactInStorage")).to.include({ status: "True", reason: "Succeeded" });
    expect(b.status!.observedGeneration).to.equal(b.metadata.generation);
    expect(b.metadata.finalizers).to.include("finalizers.fluxcd.io");
    const events = { group: "", version: "v1", plural: "events", kind: "Event" };
    const ev = await eventually(async () => (await ctl.client.list<{ reason: string; message: string; metadata: { annotations?: Record<string, string> } }>(events, { namespace: ns }))
      .items.find((e) => e.reason === "NewArtifact"), { what: "NewArtifact event" });
    expect(ev.message).to.equal(`stored artifact with 2 fetched files from '${bucket}' bucket`);
    expect(ev.metadata.annotations).to.include({ "source.toolkit.fluxcd.io/revision": revision });
  });

  it("spec.ignore replaces the default exclusions; provider aws with static keys speaks the same protocol", async function () {
    const { ns, bucket } = await setup({ ".sourceignore": "tmp/\n", "a.yaml": "a\n", "README.md": "r\n", "logo.png": "p", "tmp/t.yaml": "t\n" });
    await createSource(ctl, buckets, ns, "ign", spec(bucket, { provider: "aws", region: "eu-west-1", ignore: "*.md\n" }));
    const b = await waitForSource<Bucket>(ctl.client, buckets, ns, "ign", { ready: "True", revision: fluxRevision({ "a.yaml": "a\n", "logo.png": "p" }) });
    expect(Object.keys(untar(await download(b.status!.artifact!.url)))).to.deep.equal(["a.yaml", "logo.png"]);
    expect(b.status!.observedIgnore).to.equal("*.md\n");
  });

  it("an unchanged index downloads no object and stores nothing; a changed or deleted object makes a new revision", async function () {
    const objects = { "a.yaml": "a: 1\n", "b.yaml": "b: 1\n", "c.yaml": "c: 1\n" };
    const { ns, bucket } = await setup(objects);
    await createSource(ctl, buckets, ns, "idx", spec(bucket));
    const first = await waitForSource<Bucket>(ctl.client, buckets, ns, "idx", { ready: "True", revision: fluxRevision(objects) });
    expect(objectGets(bucket)).to.equal(3);
    const [g0, l0] = [objectGets(bucket), lists(bucket)];
    const files = () => fs.readdirSync(path.join(ctl.storageDir, "bucket", ns, "idx")).sort();
    const stored = files();

    await requestReconcile(ctl.client, buckets, ns, "idx", "again");
    const same = await waitForSource<Bucket>(ctl.client, buckets, ns, "idx", { ready: "True", handled: "again" });
    expect(same.status!.artifact).to.deep.equal(first.status!.artifact);
    expect(lists(bucket)).to.equal(l0 + 1);
    expect(objectGets(bucket), "objects downloaded for an unchanged index").to.equal(g0);
    expect(files()).to.deep.equal(stored);

    await s3.put(bucket, { "b.yaml": "b: 2\n" });
    await requestReconcile(ctl.client, buckets, ns, "idx", "changed");
    const changed = { ...objects, "b.yaml": "b: 2\n" };
    const c = await waitForSource<Bucket>(ctl.client, buckets, ns, "idx", { ready: "True", revision: fluxRevision(changed) });
    expect(untar(await download(c.status!.artifact!.url))).to.deep.equal(changed);
    expect(objectGets(bucket)).to.equal(g0 + 3);

    await s3.delete(bucket, "c.yaml");
    await requestReconcile(ctl.client, buckets, ns, "idx", "deleted");
    const d = await waitForSource<Bucket>(ctl.client, buckets, ns, "idx", { ready: "True", revision: fluxRevision({ "a.yaml": "a: 1\n", "b.yaml": "b: 2\n" }) });
    expect(Object.keys(untar(await download(d.status!.artifact!.url)))).to.deep.equal(["a.yaml", "b.yaml"]);
  });

  it("lists a bucket page by page (ListObjectsV2 continuation tokens)", async function () {
    const objects = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k/${i} x+y.yaml`, `${i}\n`]));
    const { bucket } = await setup(objects);
    const before = lists(bucket);
    const listed = await s3.s3(bucket).listObjects("k/", 2);
    expect(listed.map((o) => o.key)).to.deep.equal(Object.keys(objects).sort());
    expect(listed.map((o) => o.etag)).to.deep.equal(Object.keys(objects).sort().map((k) => md5(objects[k])));
    await eventually(() => lists(bucket) === before + 3, { what: "three list requests in the access log" });
  });

  it("reaches an HTTPS endpoint with the CA and client certificate of spec.certSecretRef", async function () {
    const tls = await S3Server.start({ tls: "mutual" });
    try {
      await tls.createBucket("secure");
      await tls.put("secure", { "s.yaml": "s: 1\n" });
      const ns = await newNamespace();
      await createSecret(ctl.client, ns, "keys", { accesskey: tls.accessKey, secretkey: tls.secretKey });
      await createSecret(ctl.client, ns, "tls", { "ca.crt": tls.caPem!, "tls.crt": tls.client!.certPem, "tls.key": tls.client!.keyPem });
      await createSource(ctl, buckets, ns, "sec", { bucketName: "secure", endpoint: tls.endpoint, secretRef: { name: "keys" }, certSecretRef: { name: "tls" } });
      await waitForSource(ctl.client, buckets, ns, "sec", { ready: "True", revision: fluxRevision({ "s.yaml": "s: 1\n" }) });
    } finally { await tls.close(); }
  });

  it("is driven by the upstream flux CLI (get, reconcile, suspend, resume source bucket)", async function () {
    const { ns, bucket } = await setup({ "app.yaml": "a: 1\n" });
    const flux = fluxCli((await getCluster()).kubeconfigPath);
    await createSource(ctl, buckets, ns, "app", spec(bucket, { interval: "1h" }));
    const r1 = fluxRevision({ "app.yaml": "a: 1\n" });
    await waitForSource(ctl.client, buckets, ns, "app", { ready: "True", revision: r1 });
    // flux prints digests shortened (`sha256:` + 8 hex), in the REVISION column and in messages.
    const short = `sha256:${r1.slice(7, 15)}`;
    const listed = await flux("get", "sources", "bucket", "-n", ns);
    expect(listed, listed).to.match(new RegExp(`app\\s+${short}\\s+False\\s+True\\s+stored artifact for revision '${short}'`));
    await s3.put(bucket, { "app.yaml": "a: 2\n" });
    const r2 = fluxRevision({ "app.yaml": "a: 2\n" });
    expect(await flux("reconcile", "source", "bucket", "app", "-n", ns)).to.contain(`fetched revision ${r2}`);
    await flux("suspend", "source", "bucket", "app", "-n", ns);
    const suspended = await flux("get", "sources", "bucket", "-n", ns);
    expect(suspended, suspended).to.match(/app\s+\S+\s+True\s+True/);
    expect(await flux("resume", "source", "bucket", "app", "-n", ns)).to.match(/resumed|fetched revision/);
  });

  it("removes the stored artifacts when the object is deleted", async function () {
    const { ns, bucket } = await setup({ "g.yaml": "g\n" });
    await createSource(ctl, buckets, ns, "gone", spec(bucket));
    const b = await waitForSource<Bucket>(ctl.client, buckets, ns, "gone", { ready: "True" });
    const file = path.join(ctl.storageDir, b.status!.artifact!.path);
    expect(fs.existsSync(file)).to.equal(true);
    await ctl.client.delete(buckets, { namespace: ns, name: "gone" });
    await eventually(async () => !(await ctl.client.get(buckets, { namespace: ns, name: "gone" })) && !fs.existsSync(file), { what: "object and artifact gone" });
  });
});
