// HelmRelease spec.serviceAccountName: helm runs as the ServiceAccount (`--kube-as-user
// system:serviceaccount:<ns>:<name>`), for the release storage and for the objects; an account
// without rights gives Ready=False with the API server's "forbidden" message naming it, and the
// release converges once granted. --default-service-account applies when the spec names none.
import { expect } from "chai";
import { KubeClient, ResourceRef } from "../../../controllers/runtime/kube";
import { newNamespace } from "../../support/cluster";
import { appChartSuite, cond, createRelease, deployments, expectSettled, helmReleases, releaseSecrets, startHelm, waitForAvailable, waitForRelease } from "./support";

const roles: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role" };
const roleBindings: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding" };
const serviceAccounts: ResourceRef = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };

async function serviceAccount(client: KubeClient, ns: string, name: string): Promise<void> {
  await client.create(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns } } as never);
}

/** A Role bound to the ServiceAccount; `rules` as in RBAC. */
async function grant(client: KubeClient, ns: string, sa: string, role: string, rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>): Promise<void> {
  await client.create(roles, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: role, namespace: ns }, rules } as never);
  await client.create(roleBindings, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: role, namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role },
    subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }] } as never);
}
const storageRules = [{ apiGroups: [""], resources: ["secrets"], verbs: ["*"] }];
// The chart's objects, and what `helm --wait` reads to see the Deployment ready.
const appRules = [
  { apiGroups: [""], resources: ["serviceaccounts", "services"], verbs: ["*"] }, { apiGroups: ["apps"], resources: ["deployments"], verbs: ["*"] },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: ["get", "list", "watch"] }, { apiGroups: [""], resources: ["pods", "events"], verbs: ["get", "list", "watch"] },
];

describe("HelmRelease: impersonation (serviceAccountName)", function () {
  this.timeout(120000);
  const suite = appChartSuite();
  const helmRepository = (ns: string) => suite.helmRepository(ns);
  const chart = () => suite.chart();

  it("reads the release storage as the ServiceAccount: without rights, Ready=False names the forbidden Secrets", async () => {
    const ns = await newNamespace("hr-sa-none");
    await helmRepository(ns);
    await serviceAccount(suite.ctl.client, ns, "nobody");
    await createRelease(suite.ctl, ns, "web", { chart: chart(), serviceAccountName: "nobody" });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "StateError" });
    expect(cond(hr, "Ready")!.message).to.match(new RegExp(
      `^Could not determine release state: .*secrets is forbidden: User "system:serviceaccount:${ns}:nobody" cannot (list|get) resource "secrets" in API group "" in the namespace "${ns}"`));
    expect(await releaseSecrets(suite.ctl.client, ns, "web")).to.deep.equal([]);

    // The objects first: helm runs as soon as it can read its storage.
    await grant(suite.ctl.client, ns, "nobody", "app", appRules);
    await grant(suite.ctl.client, ns, "nobody", "storage", storageRules);
    expectSettled(await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" }));
    await waitForAvailable(suite.ctl.client, ns, "web-app");
  });

  it("installs the objects as the ServiceAccount: the install fails naming the object it may not create, then succeeds once granted", async () => {
    const ns = await newNamespace("hr-sa-objects");
    await helmRepository(ns);
    await serviceAccount(suite.ctl.client, ns, "deployer");
    await grant(suite.ctl.client, ns, "deployer", "storage", storageRules);
    await createRelease(suite.ctl, ns, "web", { chart: chart(), serviceAccountName: "deployer" });
    const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "InstallFailed" });
    expect(cond(hr, "Ready")!.message).to.match(new RegExp(
      `^Helm install failed for release ${ns}/web with chart app@1.0.0: .*is forbidden: User "system:serviceaccount:${ns}:deployer" cannot (create|get|patch) resource "(serviceaccounts|services|deployments)"`));
    expect(await suite.ctl.client.get(deployments, { namespace: ns, name: "web-app" })).to.equal(undefined);

    await grant(suite.ctl.client, ns, "deployer", "app", appRules);
    // A failed install that stored a release is final for this generation (no retries): a new
    // generation retries it (an upgrade then); one refused before helm stored anything is
    // retried as it is (an install).
    await suite.ctl.client.patch(helmReleases, { namespace: ns, name: "web" }, { spec: { values: { replicaCount: 1 } } });
    const ok = await waitForRelease(suite.ctl.client, ns, "web", { ready: "True" });
    expectSettled(ok);
    expect(cond(ok, "Ready")!.reason).to.be.oneOf(["InstallSucceeded", "UpgradeSucceeded"]);
    await waitForAvailable(suite.ctl.client, ns, "web-app");
  });

  it("impersonates --default-service-account when the spec names none", async () => {
    const tenant = await startHelm(suite.ctl, { instance: `${suite.ctl.labels["gitops-test/instance"]}-dsa`, defaultServiceAccount: "tenant" });
    try {
      const ns = await newNamespace("hr-sa-default");
      await helmRepository(ns);
      await serviceAccount(suite.ctl.client, ns, "tenant");
      await createRelease(suite.ctl, ns, "web", { chart: chart() }, tenant.labels);
      const hr = await waitForRelease(suite.ctl.client, ns, "web", { ready: "False", reason: "StateError" });
      expect(cond(hr, "Ready")!.message).to.match(new RegExp(`User "system:serviceaccount:${ns}:tenant" cannot (list|get) resource "secrets"`));
      await grant(suite.ctl.client, ns, "tenant", "app", appRules);
      await grant(suite.ctl.client, ns, "tenant", "storage", storageRules);
      expectSettled(await waitForRelease(suite.ctl.client, ns, "web", { ready: "True", reason: "InstallSucceeded" }));
    } finally {
      await tenant.stop();
    }
  });
});
