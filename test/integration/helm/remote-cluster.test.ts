// HelmRelease spec.kubeConfig.secretRef: helm releases into the cluster of a kubeconfig stored in
// a Secret. A second embedded cluster (its own kwok node) is that remote cluster: the release
// storage (storageNamespace), the objects (targetNamespace, created on demand), helm's --wait,
// drift correction and the uninstall all happen there, never on the controller's cluster.
// A missing Secret, a missing key, a kubeconfig that is not self-contained and an unreachable
// server are Ready=False with Flux's reason and message, and uninstall nothing.
// spec.serviceAccountName is impersonated on the remote cluster.
import { expect } from "chai";
import { KubeObject } from "../../../controllers/runtime/keys";
import { eventually, newNamespace } from "../../support/cluster";
import { ExtraCluster, startExtraCluster } from "../../support/extra-cluster";
import type { HelmRelease } from "../../../controllers/api/helm/v2/helm-release";
import { appChartSuite, cond, createRelease, deployments, expectSettled, helmReleases, releaseSecrets, secrets, waitForAvailable, waitForRelease } from "./support";

const namespaces = { group: "", version: "v1", plural: "namespaces", kind: "Namespace" };
const serviceAccounts = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };
const roleBindings = { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding" };

describe("HelmRelease: remote cluster (kubeConfig)", function () {
  this.timeout(240_000);
  const suite = appChartSuite();
  let remote: ExtraCluster;
  before(async function () {
    this.timeout(180_000);
    remote = await startExtraCluster("hr-remote");
  });
  after(async () => { await remote?.stop(); });

  const setSecret = async (ns: string, data: Record<string, string>) => {
    const body = { apiVersion: "v1", kind: "Secret", metadata: { name: "remote-kc", namespace: ns, labels: { "reconcile.fluxcd.io/watch": "Enabled" } }, stringData: data };
    if (await suite.ctl.client.get(secrets, { namespace: ns, name: "remote-kc" })) await suite.ctl.client.delete(secrets, { namespace: ns, name: "remote-kc" });
    await suite.ctl.client.create(secrets, body as never);
  };
  const failedWith = async (ns: string, reason: string, message: string | RegExp) => {
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason, check: (h) => typeof message === "string" ? cond(h, "Ready")!.message === message : message.test(cond(h, "Ready")!.message) });
    return hr;
  };

  it("releases, waits, corrects drift and uninstalls on the remote cluster; bad kubeconfigs fail without uninstalling", async () => {
    const ns = await newNamespace("hr-remote");
    await remote.client.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
    await suite.helmRepository(ns);
    const apps = `${ns}-apps`;
    await createRelease(suite.ctl, ns, "web", {
      chart: suite.chart(), releaseName: "web", targetNamespace: apps, storageNamespace: ns, install: { createNamespace: true },
      driftDetection: { mode: "enabled" }, kubeConfig: { secretRef: { name: "remote-kc" } },
    });
    await failedWith(ns, "RESTClientError", `could not get KubeConfig secret '${ns}/remote-kc': secrets "remote-kc" not found`);
    await setSecret(ns, { kubeconfig: remote.kubeconfig });
    await failedWith(ns, "RESTClientError", `KubeConfig secret '${ns}/remote-kc' does not contain a 'value' or 'value.yaml' key with data`);
    const withCaFile = remote.kubeconfig.replace(/certificate-authority-data: .*/, "certificate-authority: /etc/kubernetes/pki/ca.crt");
    await setSecret(ns, { value: withCaFile });
    await failedWith(ns, "RESTClientError", /^failed to load KubeConfig from secret '.*\/remote-kc': cluster '.*' references a certificate-authority file, only certificate-authority-data is supported$/);
    expect(await releaseSecrets(remote.client, ns, "web")).to.deep.equal([]);

    await setSecret(ns, { "value.yaml": remote.kubeconfig });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" });
    expectSettled(hr);
    expect(hr.status?.storageNamespace).to.equal(ns);
    // helm --wait saw the Deployment Available on the remote cluster (kwok pods there).
    await waitForAvailable(remote.client, apps, "web-app");
    expect(await releaseSecrets(remote.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(await releaseSecrets(suite.ctl.client, ns, "web"), "no release storage on the controller's cluster").to.deep.equal([]);
    expect(await suite.ctl.client.get(namespaces, { namespace: "", name: apps }), "target namespace only on the remote").to.equal(undefined);

    // Drift correction on the remote cluster.
    await remote.client.delete(serviceAccounts, { namespace: apps, name: "web-app" });
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": "drift" } } });
    await eventually(async () => (await remote.client.get(serviceAccounts, { namespace: apps, name: "web-app" })) !== undefined, { timeoutMs: 30_000, what: "ServiceAccount recreated on the remote" });

    // Unreachable: Ready=False, the release stays on the remote.
    await setSecret(ns, { value: remote.kubeconfig.replace(/server: .*/, "server: https://127.0.0.1:1") });
    await failedWith(ns, "StateError", /^Could not determine release state: .*127\.0\.0\.1:1.*connection refused/);
    expect(await releaseSecrets(remote.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(await remote.client.get(deployments, { namespace: apps, name: "web-app" })).to.not.equal(undefined);

    await setSecret(ns, { value: remote.kubeconfig });
    await waitForRelease(suite.ctl.client, ns, "web", { ready: "True" });
    await suite.ctl.client.delete(helmReleases, { namespace: ns, name: "web" });
    await eventually(async () => !(await suite.ctl.client.get(helmReleases, { namespace: ns, name: "web" })), { what: "HelmRelease gone", timeoutMs: 60_000 });
    expect(await releaseSecrets(remote.client, ns, "web"), "uninstalled on the remote").to.deep.equal([]);
    await eventually(async () => !(await remote.client.get(deployments, { namespace: apps, name: "web-app" })), { what: "remote Deployment deleted", timeoutMs: 30_000 });
  });

  it("impersonates spec.serviceAccountName on the remote cluster", async () => {
    const ns = await newNamespace("hr-remote-sa");
    await remote.client.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as never);
    // The account exists only on the remote cluster, as Flux requires.
    await remote.client.create(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "deployer", namespace: ns } } as never);
    await suite.helmRepository(ns);
    await setSecret(ns, { value: remote.kubeconfig });
    await createRelease(suite.ctl, ns, "web", { chart: suite.chart(), serviceAccountName: "deployer", kubeConfig: { secretRef: { name: "remote-kc", key: "value" } } });
    const denied = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "StateError" });
    expect(cond(denied, "Ready")!.message).to.match(new RegExp(`secrets is forbidden: User "system:serviceaccount:${ns}:deployer" cannot (list|get) resource "secrets"`));
    await remote.client.create(roleBindings, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "deployer-admin", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
      subjects: [{ kind: "ServiceAccount", name: "deployer", namespace: ns }] } as never);
    const hr: HelmRelease = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" }, 120_000);
    expectSettled(hr);
    const sec = await remote.client.get<KubeObject>(secrets, { namespace: ns, name: "sh.helm.release.v1.web.v1" });
    expect(sec, "release stored on the remote").to.not.equal(undefined);
    expect(await suite.ctl.client.get(deployments, { namespace: ns, name: "web-app" })).to.equal(undefined);

    // Deleted without its kubeconfig Secret: as Flux, the remote release is left in place.
    await suite.ctl.client.delete(secrets, { namespace: ns, name: "remote-kc" });
    await suite.ctl.client.delete(helmReleases, { namespace: ns, name: "web" });
    await eventually(async () => !(await suite.ctl.client.get(helmReleases, { namespace: ns, name: "web" })), { what: "HelmRelease gone", timeoutMs: 60_000 });
    expect(await releaseSecrets(remote.client, ns, "web")).to.deep.equal(["sh.helm.release.v1.web.v1"]);
    expect(await remote.client.get(deployments, { namespace: ns, name: "web-app" })).to.not.equal(undefined);
  });
});
