import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OCIRepository } from "../../../controllers/api/source/v1/oci-repository";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { KubeClient } from "../../../controllers/runtime/kube";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { OciRegistry, createSource, waitForSource } from "../../support/oci-registry";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

function contentDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-oci-src-"));
  fs.writeFileSync(path.join(dir, "app.yaml"), "kind: ConfigMap\n");
  return dir;
}

/** What `kubectl create secret docker-registry` makes. */
async function dockerSecret(client: KubeClient, ns: string, name: string, registry: string, username: string, password: string): Promise<void> {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  await client.create(secrets, { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/dockerconfigjson", metadata: { name, namespace: ns },
    stringData: { ".dockerconfigjson": JSON.stringify({ auths: { [registry]: { username, password, auth } } }) } } as never);
}

describe("OCIRepository: registry authentication", function () {
  let ctl: RunningControllers;
  let basic: OciRegistry;
  let token: OciRegistry;
  let digest: string;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    basic = await OciRegistry.start({ basicAuth: { username: "flux", password: "s3cret" } });
    token = await OciRegistry.start({ tokenAuth: { username: "bot", password: "t0ken-pw" } });
    digest = await basic.push("app:v1", contentDir());
    await token.push("app:v1", contentDir());
  });
  after(async () => { await ctl?.stop(); await basic?.close(); await token?.close(); });

  it("pulls with basic auth from a kubernetes.io/dockerconfigjson secretRef", async function () {
    const ns = await newNamespace();
    await dockerSecret(ctl.client, ns, "creds", basic.host, "flux", "s3cret");
    await createSource(ctl, ociRepositories, ns, "app", { url: basic.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "creds" } });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `v1@${digest}` });
  });

  it("pulls with a bearer token from the registry's token server", async function () {
    const ns = await newNamespace();
    await dockerSecret(ctl.client, ns, "creds", `https://${token.host}/v1/`, "bot", "t0ken-pw");
    await createSource(ctl, ociRepositories, ns, "app", { url: token.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "creds" } });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: /^v1@sha256:/ });
  });

  it("uses the image pull secrets of spec.serviceAccountName", async function () {
    const ns = await newNamespace();
    await dockerSecret(ctl.client, ns, "pull", basic.host, "flux", "s3cret");
    await ctl.client.create(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "puller", namespace: ns }, imagePullSecrets: [{ name: "pull" }] } as never);
    await createSource(ctl, ociRepositories, ns, "app", { url: basic.url("app"), insecure: true, ref: { tag: "v1" }, serviceAccountName: "puller" });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `v1@${digest}` });
  });

  it("reports wrong credentials, missing credentials and a missing Secret as AuthenticationFailed", async function () {
    const ns = await newNamespace();
    await dockerSecret(ctl.client, ns, "wrong", basic.host, "flux", "nope");
    await dockerSecret(ctl.client, ns, "wrong-token", token.host, "bot", "nope");
    await dockerSecret(ctl.client, ns, "other-host", "registry.example.com", "flux", "s3cret");
    await createSource(ctl, ociRepositories, ns, "wrong", { url: basic.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "wrong" } });
    await createSource(ctl, ociRepositories, ns, "wrong-token", { url: token.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "wrong-token" } });
    await createSource(ctl, ociRepositories, ns, "anonymous", { url: basic.url("app"), insecure: true, ref: { tag: "v1" } });
    await createSource(ctl, ociRepositories, ns, "no-secret", { url: basic.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "absent" } });
    await createSource(ctl, ociRepositories, ns, "other-host", { url: basic.url("app"), insecure: true, ref: { tag: "v1" }, secretRef: { name: "other-host" } });
    const want = (message: RegExp) => ({ ready: "False" as const, reason: "AuthenticationFailed", message });
    const wrong = await waitForSource<OCIRepository>(ctl.client, ociRepositories, ns, "wrong", want(/UNAUTHORIZED: authentication required.*check the credentials for 127\.0\.0\.1:\d+ in the Secret/));
    expect(wrong.status!.conditions!.find((c) => c.type === "FetchFailed")).to.include({ status: "True", reason: "AuthenticationFailed" });
    await waitForSource(ctl.client, ociRepositories, ns, "wrong-token", want(/token request to http:\/\/localhost:\d+\/token was refused \(401\): check the credentials/));
    await waitForSource(ctl.client, ociRepositories, ns, "anonymous", want(/the registry needs credentials: set spec\.secretRef/));
    await waitForSource(ctl.client, ociRepositories, ns, "no-secret", want(new RegExp(`failed to get credential: failed to get secret '${ns}/absent': secrets "absent" not found`)));
    await waitForSource(ctl.client, ociRepositories, ns, "other-host", want(/has no credentials for registry '127\.0\.0\.1:\d+' in '\.dockerconfigjson'/));
  });
});

describe("OCIRepository: TLS registries", function () {
  let ctl: RunningControllers;
  let tls: OciRegistry;
  let plain: OciRegistry;
  let digest: string;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    tls = await OciRegistry.start({ tls: true });
    plain = await OciRegistry.start();
    digest = await tls.push("app:v1", contentDir());
    await plain.push("app:v1", contentDir());
  });
  after(async () => { await ctl?.stop(); await tls?.close(); await plain?.close(); });

  it("trusts the CA of spec.certSecretRef", async function () {
    const ns = await newNamespace();
    await ctl.client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name: "ca", namespace: ns }, stringData: { "ca.crt": tls.caPem! } } as never);
    await createSource(ctl, ociRepositories, ns, "app", { url: tls.url("app"), ref: { tag: "v1" }, certSecretRef: { name: "ca" } });
    await waitForSource(ctl.client, ociRepositories, ns, "app", { ready: "True", revision: `v1@${digest}` });
  });

  it("says to add the CA when the certificate is not trusted, and to set insecure for plain HTTP", async function () {
    const ns = await newNamespace();
    await createSource(ctl, ociRepositories, ns, "untrusted", { url: tls.url("app"), ref: { tag: "v1" } });
    await createSource(ctl, ociRepositories, ns, "plain", { url: plain.url("app"), ref: { tag: "v1" } });
    await waitForSource(ctl.client, ociRepositories, ns, "untrusted", { ready: "False", reason: "OCIArtifactPullFailed",
      message: /failed to determine artifact digest: .*certificate signed by unknown authority \(put the CA certificate as 'ca\.crt' in the Secret of spec\.certSecretRef\)/ });
    await waitForSource(ctl.client, ociRepositories, ns, "plain", { ready: "False", reason: "OCIArtifactPullFailed",
      message: /does not speak HTTPS.*set spec\.insecure: true for a plain-HTTP registry/ });
  });
});
