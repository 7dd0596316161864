// Kustomization serviceAccountName: applies as the impersonated ServiceAccount; one without
// rights fails with the API server's "forbidden" message naming the object and nothing is
// applied, then converges once granted; --default-service-account applies to Kustomizations
// that name none.
import { expect } from "chai";
import { KubeClient, ResourceRef } from "../../../controllers/runtime/kube";
import { newNamespace } from "../../support/cluster";
import {
  Env, INSTANCE_LABEL, configMap, core, createKustomization, expectCurrent, gitSource, readyCondition, sharedControllers,
  startControllers, waitForReady,
} from "./support";

const roles: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role" };
const roleBindings: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding" };

async function serviceAccount(client: KubeClient, ns: string, name: string): Promise<void> {
  await client.create(core.serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace: ns } } as never);
}

async function grant(client: KubeClient, ns: string, sa: string): Promise<void> {
  await client.create(roles, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: `${sa}-apply`, namespace: ns },
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] } as never);
  await client.create(roleBindings, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: `${sa}-apply`, namespace: ns },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${sa}-apply` },
    subjects: [{ kind: "ServiceAccount", name: sa, namespace: ns }] } as never);
}

describe("Kustomization: impersonation", function () {
  this.timeout(120_000);
  let env: Env;
  before(async () => { env = await sharedControllers(); });

  it("applies as the ServiceAccount named in the spec", async () => {
    const ns = await newNamespace("kz-sa");
    await serviceAccount(env.client, ns, "deployer");
    await grant(env.client, ns, "deployer");
    await gitSource(env.client, ns, { "app/cm.yaml": configMap("as-sa", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, serviceAccountName: "deployer" });
    expectCurrent(await waitForReady(env.client, ns, "app"));
    const cm = await env.client.get(core.configMaps, { namespace: ns, name: "as-sa" });
    const managers = (cm?.metadata as { managedFields?: Array<{ manager?: string }> } | undefined)?.managedFields ?? [];
    expect(managers.some((f) => f.manager === "kustomize-controller")).to.equal(true);
  });

  it("fails with a forbidden message when the ServiceAccount lacks rights, then converges once granted", async () => {
    const ns = await newNamespace("kz-sa-denied");
    await serviceAccount(env.client, ns, "nobody");
    await gitSource(env.client, ns, { "app/a.yaml": configMap("a", { v: "1" }), "app/b.yaml": configMap("b", { v: "1" }) });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, serviceAccountName: "nobody", retryInterval: "2s" });
    const k = await waitForReady(env.client, ns, "app", { status: "False", reason: "ReconciliationFailed" });
    const msg = readyCondition(k)?.message ?? "";
    expect(msg).to.match(new RegExp(`ConfigMap/${ns}/a dry-run failed \\(Forbidden\\): configmaps "a" is forbidden: User "system:serviceaccount:${ns}:nobody" cannot patch resource "configmaps"`));
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "a" })).to.equal(undefined);
    expect(await env.client.get(core.configMaps, { namespace: ns, name: "b" })).to.equal(undefined);
    expect(k.status?.inventory).to.equal(undefined);
    await grant(env.client, ns, "nobody");
    expectCurrent(await waitForReady(env.client, ns, "app", { timeoutMs: 30_000 }));
  });

  it("impersonates --default-service-account when the spec names none", async () => {
    const inst = await startControllers({ instance: "default-sa", kustomize: { defaultServiceAccount: "tenant" } });
    const ns = await newNamespace("kz-default-sa");
    const labels = { [INSTANCE_LABEL]: "default-sa" };
    await serviceAccount(inst.client, ns, "tenant");
    await gitSource(inst.client, ns, { "app/cm.yaml": configMap("tenant-cm", { v: "1" }) }, "repo", labels);
    await createKustomization(inst.client, ns, "app", { path: "./app", targetNamespace: ns, retryInterval: "2s" }, labels);
    const k = await waitForReady(inst.client, ns, "app", { status: "False", reason: "ReconciliationFailed" });
    expect(readyCondition(k)?.message).to.include(`User "system:serviceaccount:${ns}:tenant" cannot patch resource "configmaps"`);
    await grant(inst.client, ns, "tenant");
    await waitForReady(inst.client, ns, "app", { timeoutMs: 30_000 });
  });
});
