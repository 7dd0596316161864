// Kustomization from a Bucket: the kustomize-controller takes sourceRef kind Bucket (the
// artifact has the same shape as a GitRepository's), applies it, and applies a new revision
// when an object in the bucket changes.
import { expect } from "chai";
import { buckets } from "../../../controllers/source/bucket/bucket-reconciler";
import { Bucket } from "../../../controllers/api/source/v1/bucket";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace, randomSuffix } from "../../support/cluster";
import { S3Server } from "../../support/s3-server";
import { Env, INSTANCE_LABEL, configMap, core, createKustomization, requestReconcile, startControllers, waitForReady } from "./support";

describe("Kustomization: from a Bucket source", function () {
  this.timeout(120_000);
  let env: Env;
  let s3: S3Server;
  const instance = `kz-bucket-${randomSuffix(6)}`;
  const labels = { [INSTANCE_LABEL]: instance };
  before(async () => {
    env = await startControllers({ instance });
    s3 = await S3Server.start();
  });
  after(async () => { await s3?.close(); });

  it("applies the manifests of a Bucket artifact and follows a changed object", async () => {
    const ns = await newNamespace("kz-bucket");
    await s3.createBucket("manifests");
    await s3.put("manifests", { "apps/cm.yaml": configMap("from-bucket", { v: "1" }), "apps/README.md": "# not a manifest\n" });
    await env.client.create(core.secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "s3-keys", namespace: ns }, stringData: { accesskey: s3.accessKey, secretkey: s3.secretKey } } as never);
    await env.client.create(buckets, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "Bucket", metadata: { name: "manifests", namespace: ns, labels },
      spec: { interval: "1h", bucketName: "manifests", endpoint: s3.endpoint, insecure: true, secretRef: { name: "s3-keys" } },
    } as never);
    await createKustomization(env.client, ns, "app", { sourceRef: { kind: "Bucket", name: "manifests" }, path: "./apps", targetNamespace: ns }, labels);
    const k = await waitForReady(env.client, ns, "app");
    expect(k.status?.lastAppliedRevision).to.match(/^sha256:[0-9a-f]{64}$/);
    const cm = await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "from-bucket" });
    expect(cm?.data).to.deep.equal({ v: "1" });

    await s3.put("manifests", { "apps/cm.yaml": configMap("from-bucket", { v: "2" }) });
    await requestReconcile(env.client, buckets, ns, "manifests");
    const revision = await eventually(async () => {
      const r = (await env.client.get<Bucket>(buckets, { namespace: ns, name: "manifests" }))?.status?.artifact?.revision;
      return r && r !== k.status?.lastAppliedRevision ? r : undefined;
    }, { what: "a new Bucket revision" });
    const k2 = await waitForReady(env.client, ns, "app", { revisionSha: revision });
    expect(k2.status?.lastAppliedRevision).to.equal(revision);
    const cm2 = await env.client.get<KubeObject & { data: Record<string, string> }>(core.configMaps, { namespace: ns, name: "from-bucket" });
    expect(cm2?.data).to.deep.equal({ v: "2" });
  });
});
