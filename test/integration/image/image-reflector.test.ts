// image-reflector-controller against a real registry (Debian's docker-registry on loopback):
// ImageRepository scans, ImagePolicy semver/alphabetical/numerical with filterTags, digest
// reflection, bad input, basic auth from a dockerconfigjson Secret, and a restart that keeps
// the scanned tags (the registry is down afterwards, so only the tag store can answer).
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ImagePolicy } from "../../../controllers/api/image/v1/image-policy";
import type { ImageRepository } from "../../../controllers/api/image/v1/image-repository";
import { imagePolicies } from "../../../controllers/image-reflector/imagepolicy-reconciler";
import { imageRepositories } from "../../../controllers/image-reflector/imagerepository-reconciler";
import { startImageReflectorController } from "../../../controllers/image-reflector/setup";
import { KubeClient } from "../../../controllers/runtime/kube";
import { Manager } from "../../../controllers/runtime/manager";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds, testManager } from "../../support/controllers";
import { OciRegistry } from "../../support/oci-registry";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const namespaces = { group: "", version: "v1", plural: "namespaces", kind: "Namespace" };

function contentDir(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-img-src-"));
  fs.writeFileSync(path.join(dir, "app.yaml"), `kind: ConfigMap\n# ${text}\n`);
  return dir;
}

type Ready = { status: "True" | "False"; reason?: string; message?: RegExp; stalled?: boolean };

async function waitReady<T extends ImageRepository | ImagePolicy>(client: KubeClient, res: { group: string; version: string; plural: string; kind: string }, ns: string, name: string, want: Ready, extra?: (o: T) => boolean): Promise<T> {
  let last: T | undefined;
  return eventually(async () => {
    last = await client.get<T>(res, { namespace: ns, name });
    const c = last?.status?.conditions?.find((x) => x.type === "Ready");
    if (!c || c.status !== want.status || (want.reason && c.reason !== want.reason) || (want.message && !want.message.test(c.message))) return undefined;
    if (want.stalled && !last!.status!.conditions!.some((x) => x.type === "Stalled" && x.status === "True" && x.reason === want.reason)) return undefined;
    if (extra && !extra(last!)) return undefined;
    return last;
  }, { timeoutMs: 30000, what: `${res.kind} ${ns}/${name} Ready=${want.status}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; last: ${JSON.stringify(last?.status)}`); });
}

describe("image-reflector-controller: ImageRepository and ImagePolicy", function () {
  this.timeout(180000);
  let reg: OciRegistry;
  let authReg: OciRegistry;
  let manager: Manager;
  let client: KubeClient;
  let instance: string;
  let storeDir: string;
  const digests: Record<string, string> = {};
  let ns: string;

  async function start(): Promise<void> {
    const { kc } = await getCluster();
    manager = testManager(kc, "gitops-test-image-reflector", instance, { requeueDependencyMs: 2000 });
    for (const d of startImageReflectorController({ storagePath: storeDir, requeueDependencyMs: 2000 }).definitions) manager.add(d);
    await manager.start();
    client = manager.client;
  }
  const labels = () => ({ [INSTANCE_LABEL]: instance });
  const repo = (name: string, spec: Record<string, unknown>, namespace = ns) => client.create(imageRepositories, {
    apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", metadata: { name, namespace, labels: labels() }, spec: { interval: "10m", ...spec },
  } as never);
  const policy = (name: string, spec: Record<string, unknown>, namespace = ns) => client.create(imagePolicies, {
    apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImagePolicy", metadata: { name, namespace, labels: labels() }, spec,
  } as never);

  before(async function () {
    await installCrds();
    instance = `image-${randomSuffix(8)}`;
    storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-image-db-"));
    reg = await OciRegistry.start();
    authReg = await OciRegistry.start({ basicAuth: { username: "flux", password: "s3cret" } });
    for (const t of ["1.0.0", "1.1.0", "2.0.0-rc.1"]) digests[t] = await reg.push(`app:${t}`, contentDir(t));
    for (const t of ["latest", "build-7", "build-12", "sha256-0123.sig"]) await reg.tag("app:1.0.0", t);
    await authReg.push("app:1.0.0", contentDir("auth"));
    await start();
    ns = await newNamespace();
  });
  after(async () => { await manager?.stop(); await reg?.close(); await authReg?.close(); if (storeDir) fs.rmSync(storeDir, { recursive: true, force: true }); });

  it("scans the tags, leaves out the default exclusion list, and reports them as Flux does", async () => {
    await repo("app", { image: `${reg.host}/app`, insecure: true });
    const r = await waitReady<ImageRepository>(client, imageRepositories, ns, "app", { status: "True", reason: "Succeeded", message: /^successful scan: found 6 tags with checksum \d+$/ });
    expect(r.status!.lastScanResult!.tagCount).to.equal(6);
    expect(r.status!.lastScanResult!.latestTags).to.deep.equal(["latest", "build-7", "build-12", "2.0.0-rc.1", "1.1.0", "1.0.0"]);
    expect(r.status!.lastScanResult!.scanTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(r.status!.canonicalImageName).to.equal(`${reg.host}/app`);
    expect(r.status!.observedExclusionList).to.deep.equal(["^.*\\.sig$"]);
    expect(r.status!.conditions!.map((c) => c.type)).to.deep.equal(["Ready"]);
  });

  it("ImagePolicy semver ^1.x picks 1.1.0 (not the pre-release, not latest) and reflects its digest", async () => {
    await policy("semver", { imageRepositoryRef: { name: "app" }, policy: { semver: { range: "^1.x" } }, digestReflectionPolicy: "IfNotPresent" });
    const p = await waitReady<ImagePolicy>(client, imagePolicies, ns, "semver", { status: "True", reason: "Succeeded" });
    expect(p.status!.latestRef).to.deep.equal({ name: `${reg.host}/app`, tag: "1.1.0", digest: digests["1.1.0"] });
    expect(p.status!.conditions!.find((c) => c.type === "Ready")!.message).to.equal(`Latest image tag for ${reg.host}/app resolved to 1.1.0 with digest ${digests["1.1.0"]}`);
    await policy("semver-pre", { imageRepositoryRef: { name: "app" }, policy: { semver: { range: ">=2.0.0-0" } } });
    const pre = await waitReady<ImagePolicy>(client, imagePolicies, ns, "semver-pre", { status: "True" });
    expect(pre.status!.latestRef).to.deep.equal({ name: `${reg.host}/app`, tag: "2.0.0-rc.1" });
  });

  it("alphabetical and numerical with filterTags.pattern and extract", async () => {
    const filterTags = { pattern: "^build-(?P<n>\\d+)$", extract: "$n" };
    await policy("alpha", { imageRepositoryRef: { name: "app" }, filterTags, policy: { alphabetical: {} } });
    await policy("num", { imageRepositoryRef: { name: "app" }, filterTags, policy: { numerical: { order: "asc" } } });
    await policy("num-desc", { imageRepositoryRef: { name: "app" }, filterTags, policy: { numerical: { order: "desc" } } });
    expect((await waitReady<ImagePolicy>(client, imagePolicies, ns, "alpha", { status: "True" })).status!.latestRef!.tag).to.equal("build-7");
    expect((await waitReady<ImagePolicy>(client, imagePolicies, ns, "num", { status: "True" })).status!.latestRef!.tag).to.equal("build-12");
    expect((await waitReady<ImagePolicy>(client, imagePolicies, ns, "num-desc", { status: "True" })).status!.latestRef!.tag).to.equal("build-7");
  });

  it("an invalid semver range stalls with InvalidPolicy; a missing repository is DependencyNotReady", async () => {
    await policy("bad-range", { imageRepositoryRef: { name: "app" }, policy: { semver: { range: "invalid" } } });
    await waitReady(client, imagePolicies, ns, "bad-range", { status: "False", reason: "InvalidPolicy", message: /^invalid policy: improper constraint: invalid$/, stalled: true });
    await policy("no-repo", { imageRepositoryRef: { name: "absent" }, policy: { semver: { range: "*" } } });
    await waitReady(client, imagePolicies, ns, "no-repo", { status: "False", reason: "DependencyNotReady", message: /referenced ImageRepository does not exist/ });
  });

  it("a cross-namespace reference needs spec.accessFrom", async () => {
    const other = await newNamespace();
    await policy("denied", { imageRepositoryRef: { name: "app", namespace: ns }, policy: { semver: { range: "^1.x" } } }, other);
    await waitReady(client, imagePolicies, other, "denied", { status: "False", reason: "AccessDenied", message: /access denied.*spec\.accessFrom/ });
    await repo("shared", { image: `${reg.host}/app`, insecure: true, accessFrom: { namespaceSelectors: [{ matchLabels: { "kubernetes.io/metadata.name": other } }] } });
    await policy("allowed", { imageRepositoryRef: { name: "shared", namespace: ns }, policy: { semver: { range: "^1.x" } } }, other);
    expect((await waitReady<ImagePolicy>(client, imagePolicies, other, "allowed", { status: "True" })).status!.latestRef!.tag).to.equal("1.1.0");
    expect(await client.get(namespaces, { namespace: "", name: other })).to.not.equal(undefined);
  });

  it("reports an unreachable registry, a tag in spec.image, and credentials from a dockerconfigjson Secret", async () => {
    await repo("down", { image: "127.0.0.1:1/app", insecure: true });
    await waitReady(client, imageRepositories, ns, "down", { status: "False", reason: "ReadOperationFailed", message: /^scan failed: .*connection refused/ });
    await repo("tagged", { image: `${reg.host}/app:1.0.0`, insecure: true });
    await waitReady(client, imageRepositories, ns, "tagged", { status: "False", reason: "ImageURLInvalid", message: /should not include a tag; remove ':1\.0\.0'/, stalled: true });
    await repo("anonymous", { image: `${authReg.host}/app`, insecure: true });
    await waitReady(client, imageRepositories, ns, "anonymous", { status: "False", reason: "AuthenticationFailed", message: /UNAUTHORIZED/ });
    const auth = Buffer.from("flux:s3cret").toString("base64");
    await client.create(secrets, { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson", metadata: { name: "creds", namespace: ns },
      stringData: { ".dockerconfigjson": JSON.stringify({ auths: { [authReg.host]: { username: "flux", password: "s3cret", auth } } }) } } as never);
    await repo("private", { image: `${authReg.host}/app`, insecure: true, secretRef: { name: "creds" } });
    await waitReady(client, imageRepositories, ns, "private", { status: "True", message: /found 1 tags/ });
  });

  it("re-evaluates an ImagePolicy when its ImageRepository's scan finds new tags (watch)", async () => {
    await policy("follow", { imageRepositoryRef: { name: "app" }, policy: { semver: { range: "^1.x" } } });
    await waitReady(client, imagePolicies, ns, "follow", { status: "True", message: /resolved to 1\.1\.0$/ });
    await reg.tag("app:1.1.0", "1.2.0");
    const r = await client.get<ImageRepository>(imageRepositories, { namespace: ns, name: "app" });
    await client.patch(imageRepositories, { namespace: ns, name: "app" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "now" } } } as never);
    await waitReady<ImageRepository>(client, imageRepositories, ns, "app", { status: "True", message: /found 7 tags/ }, (o) => o.status!.lastScanResult!.revision !== r!.status!.lastScanResult!.revision);
    const p = await waitReady<ImagePolicy>(client, imagePolicies, ns, "follow", { status: "True", message: /resolved to 1\.2\.0 \(previously .*:1\.1\.0\)$/ });
    expect(p.status!.observedPreviousRef).to.deep.equal({ name: `${reg.host}/app`, tag: "1.1.0" });
  });

  it("keeps the scanned tags across a controller restart: no rescan, and policies resolve with the registry down", async () => {
    const before = await client.get<ImageRepository>(imageRepositories, { namespace: ns, name: "app" });
    await manager.stop();
    await reg.stop();
    await start();
    await policy("after-restart", { imageRepositoryRef: { name: "app" }, policy: { semver: { range: "^1.x" } } });
    expect((await waitReady<ImagePolicy>(client, imagePolicies, ns, "after-restart", { status: "True" })).status!.latestRef!.tag).to.equal("1.2.0");
    // The restarted controller has reconciled the repository (initial list) without scanning:
    // a scan would have failed with the registry down.
    await new Promise((r) => setTimeout(r, 2000));
    const now = await client.get<ImageRepository>(imageRepositories, { namespace: ns, name: "app" });
    expect(now!.status!.conditions!.find((c) => c.type === "Ready")).to.include({ status: "True", reason: "Succeeded" });
    expect(now!.status!.lastScanResult).to.deep.equal(before!.status!.lastScanResult);
    await reg.start();
  });
});
