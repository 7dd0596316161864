import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { Bucket } from "../../../controllers/api/source/v1/bucket";
import { buckets } from "../../../controllers/source/bucket/bucket-reconciler";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";
import { S3Server } from "../../support/s3-server";
import { createSecret, secrets } from "./support";

describe("Bucket: bad input and faults", function () {
  let ctl: RunningControllers;
  let s3: S3Server;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    s3 = await S3Server.start();
    await s3.createBucket("present");
    await s3.put("present", { "app.yaml": "a: 1\n" });
  });
  after(async () => { await ctl?.stop(); await s3?.close(); });

  async function namespaceWithKeys(keys: Record<string, string> = { accesskey: s3.accessKey, secretkey: s3.secretKey }): Promise<string> {
    const ns = await newNamespace();
    await createSecret(ctl.client, ns, "s3-keys", keys);
    return ns;
  }
  const spec = (extra: Record<string, unknown> = {}) =>
    ({ bucketName: "present", endpoint: s3.endpoint, insecure: true, secretRef: { name: "s3-keys" }, ...extra });

  /** Ready=False with `reason` and a matching message, FetchFailed, retrying (not Stalled). */
  async function expectRetrying(ns: string, name: string, reason: string, message: RegExp): Promise<Bucket> {
    const b = await waitForSource<Bucket>(ctl.client, buckets, ns, name, { ready: "False", reason, message });
    expect(conditionOf(b, "FetchFailed")).to.include({ status: "True", reason });
    expect(conditionOf(b, "Reconciling")).to.include({ status: "True", reason: "ProgressingWithRetry" });
    expect(conditionOf(b, "Stalled")).to.equal(undefined);
    return b;
  }

  it("a bucket that does not exist: BucketOperationFailed naming it", async function () {
    const ns = await namespaceWithKeys();
    await createSource(ctl, buckets, ns, "missing", spec({ bucketName: "no-such-bucket" }));
    await expectRetrying(ns, "missing", "BucketOperationFailed", /^bucket 'no-such-bucket' does not exist at endpoint '127\.0\.0\.1:\d+' \(check spec\.bucketName and spec\.endpoint\)$/);
  });

  it("wrong keys: the server's refusal and which Secret to fix; fixed keys recover", async function () {
    const ns = await namespaceWithKeys({ accesskey: s3.accessKey, secretkey: "not-the-secret" });
    await createSource(ctl, buckets, ns, "badsecret", spec());
    await expectRetrying(ns, "badsecret", "BucketOperationFailed",
      new RegExp(`SignatureDoesNotMatch: .*\\(check 'accesskey' and 'secretkey' in Secret '${ns}/s3-keys'\\)$`));
    await createSecret(ctl.client, ns, "other-keys", { accesskey: "NOBODY", secretkey: s3.secretKey });
    await createSource(ctl, buckets, ns, "badkey", spec({ secretRef: { name: "other-keys" } }));
    await expectRetrying(ns, "badkey", "BucketOperationFailed", /InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records\./);
    await ctl.client.patch(secrets, { namespace: ns, name: "s3-keys" }, { stringData: { secretkey: s3.secretKey } });
    await requestReconcile(ctl.client, buckets, ns, "badsecret", "fixed");
    const ok = await waitForSource<Bucket>(ctl.client, buckets, ns, "badsecret", { ready: "True" });
    expect(conditionOf(ok, "FetchFailed")).to.equal(undefined);
  });

  it("no credentials for a private bucket, a missing Secret, a Secret without the keys: what to add", async function () {
    const ns = await namespaceWithKeys({ username: "x" });
    await createSource(ctl, buckets, ns, "anon", spec({ secretRef: undefined }));
    await expectRetrying(ns, "anon", "BucketOperationFailed", /AccessDenied: .*reference a Secret with 'accesskey' and 'secretkey' in spec\.secretRef/);
    await createSource(ctl, buckets, ns, "nosecret", spec({ secretRef: { name: "absent" } }));
    await expectRetrying(ns, "nosecret", "AuthenticationFailed", new RegExp(`failed to get secret '${ns}/absent': secrets "absent" not found`));
    await createSource(ctl, buckets, ns, "nokeys", spec());
    await expectRetrying(ns, "nokeys", "AuthenticationFailed", new RegExp(`invalid '${ns}/s3-keys' secret data: required fields 'accesskey' and 'secretkey'`));
  });

  it("endpoint down: Ready=False with the connection error, the last artifact stays; it recovers when the server is back", async function () {
    const own = await S3Server.start();
    try {
      await own.createBucket("flaky");
      await own.put("flaky", { "f.yaml": "f: 1\n" });
      const ns = await namespaceWithKeys({ accesskey: own.accessKey, secretkey: own.secretKey });
      await createSource(ctl, buckets, ns, "flaky", { bucketName: "flaky", endpoint: own.endpoint, insecure: true, secretRef: { name: "s3-keys" } });
      const good = await waitForSource<Bucket>(ctl.client, buckets, ns, "flaky", { ready: "True" });
      const artifact = good.status!.artifact!;
      await own.stop();
      await requestReconcile(ctl.client, buckets, ns, "flaky", "down");
      const down = await expectRetrying(ns, "flaky", "BucketOperationFailed", /connection refused \(is the server running at 127\.0\.0\.1:\d+\?\)/);
      expect(down.status!.artifact).to.deep.equal(artifact);
      expect(conditionOf(down, "ArtifactInStorage")).to.include({ status: "True" });
      expect(fs.existsSync(path.join(ctl.storageDir, artifact.path))).to.equal(true);
      expect((await fetch(artifact.url)).status).to.equal(200);
      await own.start();
      await requestReconcile(ctl.client, buckets, ns, "flaky", "up");
      const up = await waitForSource<Bucket>(ctl.client, buckets, ns, "flaky", { ready: "True", handled: "up" });
      expect(up.status!.artifact).to.deep.equal(artifact);
      expect(conditionOf(up, "FetchFailed")).to.equal(undefined);
    } finally { await own.close(); }
  });

  it("HTTPS to a plain-HTTP server, and an HTTPS server without its CA: the hint to fix it", async function () {
    const ns = await namespaceWithKeys();
    await createSource(ctl, buckets, ns, "nottls", spec({ insecure: false }));
    await expectRetrying(ns, "nottls", "BucketOperationFailed", /the server does not speak HTTPS .*set spec\.insecure: true/);
    const tls = await S3Server.start({ tls: true });
    try {
      await createSource(ctl, buckets, ns, "noca", { bucketName: "present", endpoint: tls.endpoint, secretRef: { name: "s3-keys" } });
      await expectRetrying(ns, "noca", "BucketOperationFailed", /certificate signed by unknown authority \(put the CA certificate as 'ca\.crt' in the Secret of spec\.certSecretRef\)/);
    } finally { await tls.close(); }
  });

  it("unsupported providers and features are Stalled with what to use instead", async function () {
    const ns = await namespaceWithKeys();
    const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
      ["gcp", { provider: "gcp", secretRef: undefined }, "InvalidProviderConfiguration", /provider 'gcp' is not supported by this controller yet/],
      ["azure", { provider: "azure", secretRef: undefined }, "InvalidProviderConfiguration", /provider 'azure' is not supported by this controller yet/],
      ["sts", { sts: { provider: "ldap", endpoint: "https://ldap.example.com" } }, "InvalidSTSConfiguration", /spec\.sts \(provider 'ldap'\) is not supported/],
      ["proxy", { proxySecretRef: { name: "proxy" } }, "InvalidProviderConfiguration", /spec\.proxySecretRef is not supported/],
      ["aws-irsa", { provider: "aws", secretRef: undefined }, "InvalidProviderConfiguration", /provider 'aws' without spec\.secretRef needs AWS workload credentials/],
      ["aws-wi", { provider: "aws", secretRef: undefined, serviceAccountName: "sa" }, "InvalidProviderConfiguration", /spec\.serviceAccountName \(workload identity for provider 'aws'\) is not supported/],
      ["plainhttp", { endpoint: `http://${s3.endpoint}`, insecure: false }, "URLInvalid", /is plain HTTP: set spec\.insecure: true/],
    ];
    for (const [name, extra] of cases) await createSource(ctl, buckets, ns, name, spec(extra));
    for (const [name, , reason, message] of cases) {
      const b = await waitForSource<Bucket>(ctl.client, buckets, ns, name, { ready: "False", reason, message });
      expect(conditionOf(b, "Stalled"), name).to.include({ status: "True", reason });
      expect(conditionOf(b, "Reconciling"), name).to.equal(undefined);
      expect(b.status!.observedGeneration, name).to.equal(b.metadata.generation);
    }
  });

  it("suspend stops reconciling: a suspended Bucket is left as it was", async function () {
    const ns = await namespaceWithKeys();
    await createSource(ctl, buckets, ns, "sus", spec({ suspend: true }));
    await new Promise((r) => setTimeout(r, 2000));
    const b = await ctl.client.get<Bucket>(buckets, { namespace: ns, name: "sus" });
    expect(b?.status?.artifact).to.equal(undefined);
    await ctl.client.patch(buckets, { namespace: ns, name: "sus" }, { spec: { suspend: false } });
    await waitForSource(ctl.client, buckets, ns, "sus", { ready: "True" });
    await eventually(async () => (await ctl.client.get<Bucket>(buckets, { namespace: ns, name: "sus" }))?.status?.artifact, { what: "artifact after resume" });
  });
});
