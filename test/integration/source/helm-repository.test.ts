import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { HelmRepository } from "../../../controllers/api/source/v1/helm-repository";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { eventually, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { HelmRepoServer } from "../../support/helm-repo";
import { conditionOf, createSource, requestReconcile, waitForSource } from "../../support/oci-registry";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("HelmRepository: index artifacts", function () {
  let ctl: RunningControllers;
  let repo: HelmRepoServer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
  });
  after(async () => { await ctl?.stop(); await repo?.close(); });

  it("stores the fetched index.yaml as is, with Flux's revision, path and Ready message", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "charts", { url: repo.url });
    const served = fs.readFileSync(path.join(repo.www, "index.yaml"));
    const hex = sha256(served);
    const r = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "charts", { ready: "True", revision: `sha256:${hex}` });
    const a = r.status!.artifact!;
    expect(a.path).to.equal(`helmrepository/${ns}/charts/index-${hex}.yaml`);
    const body = Buffer.from(await (await fetch(a.url)).arrayBuffer());
    expect(body.equals(served)).to.equal(true);
    expect(a.digest).to.equal(`sha256:${hex}`);
    expect(a.size).to.equal(served.length);
    expect(conditionOf(r, "Ready")).to.include({ reason: "Succeeded", message: `stored artifact: revision 'sha256:${hex}'` });
    expect(conditionOf(r, "ArtifactInStorage")).to.include({ status: "True" });
    const events = { group: "", version: "v1", plural: "events", kind: "Event" };
    const ev = await eventually(async () => (await ctl.client.list<{ reason: string; message: string; metadata: object }>(events, { namespace: ns })).items.find((e) => e.reason === "NewArtifact"), { what: "event" });
    expect(ev.message).to.match(new RegExp(`^fetched index of size [\\d.]+k?B from '${repo.url.replace(/\./g, "\\.")}'$`));
  });

  it("keeps the artifact while the index is unchanged and stores a new one when a chart is added", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "charts", { url: `${repo.url}/` });
    const first = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "charts", { ready: "True" });
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "same");
    const same = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "charts", { ready: "True", handled: "same" });
    expect(same.status!.artifact).to.deep.equal(first.status!.artifact);
    await repo.addChart("other", "0.2.0");
    await requestReconcile(ctl.client, helmRepositories, ns, "charts", "added");
    const next = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "charts", { ready: "True", handled: "added" });
    expect(next.status!.artifact!.revision).to.equal(`sha256:${sha256(fs.readFileSync(path.join(repo.www, "index.yaml")))}`);
    expect(next.status!.artifact!.revision).not.to.equal(first.status!.artifact!.revision);
  });

  it("marks an OCI HelmRepository Ready without an artifact", async function () {
    const ns = await newNamespace();
    await createSource(ctl, helmRepositories, ns, "oci", { url: "oci://registry.example.invalid/charts", type: "oci" });
    const r = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "oci", { ready: "True", message: /^Helm repository is ready$/ });
    expect(r.status!.artifact).to.equal(undefined);
    expect(conditionOf(r, "ArtifactInStorage")).to.equal(undefined);
  });
});

describe("HelmRepository: authentication and TLS", function () {
  let ctl: RunningControllers;
  let basic: HelmRepoServer;
  let tls: HelmRepoServer;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    basic = await HelmRepoServer.start({ basicAuth: { username: "helm", password: "pw" } });
    tls = await HelmRepoServer.start({ tls: true });
    await basic.addChart("app", "1.0.0");
    await tls.addChart("app", "1.0.0");
  });
  after(async () => { await ctl?.stop(); await basic?.close(); await tls?.close(); });

  const secret = (ns: string, name: string, stringData: Record<string, string>) =>
    ctl.client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, stringData } as never);

  it("fetches with basic auth from secretRef and says what is wrong with bad or missing credentials", async function () {
    const ns = await newNamespace();
    await secret(ns, "good", { username: "helm", password: "pw" });
    await secret(ns, "bad", { username: "helm", password: "wrong" });
    await createSource(ctl, helmRepositories, ns, "good", { url: basic.url, secretRef: { name: "good" } });
    await createSource(ctl, helmRepositories, ns, "bad", { url: basic.url, secretRef: { name: "bad" } });
    await createSource(ctl, helmRepositories, ns, "none", { url: basic.url });
    await createSource(ctl, helmRepositories, ns, "absent", { url: basic.url, secretRef: { name: "absent" } });
    await waitForSource(ctl.client, helmRepositories, ns, "good", { ready: "True" });
    const bad = await waitForSource<HelmRepository>(ctl.client, helmRepositories, ns, "bad", { ready: "False", reason: "Failed",
      message: /failed to fetch Helm repository index: failed to fetch http:\/\/127\.0\.0\.1:\d+\/index\.yaml : 401 Unauthorized \(check 'username' and 'password' in the Secret of spec\.secretRef\)/ });
    expect(conditionOf(bad, "FetchFailed")).to.include({ status: "True", reason: "Failed" });
    await waitForSource(ctl.client, helmRepositories, ns, "none", { ready: "False", reason: "Failed", message: /401 Unauthorized \(the repository needs credentials: set spec\.secretRef/ });
    await waitForSource(ctl.client, helmRepositories, ns, "absent", { ready: "False", reason: "AuthenticationFailed", message: new RegExp(`failed to get secret '${ns}/absent': secrets "absent" not found`) });
  });

  it("trusts the CA of certSecretRef, and says to add it when it is missing", async function () {
    const ns = await newNamespace();
    await secret(ns, "ca", { "ca.crt": tls.certs!.caPem });
    await createSource(ctl, helmRepositories, ns, "trusted", { url: tls.url, certSecretRef: { name: "ca" } });
    await createSource(ctl, helmRepositories, ns, "untrusted", { url: tls.url });
    await waitForSource(ctl.client, helmRepositories, ns, "trusted", { ready: "True" });
    await waitForSource(ctl.client, helmRepositories, ns, "untrusted", { ready: "False", reason: "Failed", message: /certificate signed by unknown authority \(put the CA certificate as 'ca\.crt'/ });
  });
});
