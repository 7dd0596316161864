// Multi-tenancy lockdown as a whole (issue 21): one controller process started with the flags
// the Install `multiTenancy` input sets (provider/manifests/options.ts withMultiTenancyArgs:
// --no-cross-namespace-refs=true, --no-remote-bases=true, --default-service-account=tenant).
// A tenant's Kustomization, naming no ServiceAccount, applies inside its namespace as `tenant`
// and nothing more: another namespace's source is refused (AccessDenied, stalled), an object
// outside its RBAC is forbidden (nothing created there), a remote base is refused before any
// fetch, and what it applied before stays. The flags one by one: bad-input.test.ts and
// impersonation.test.ts (in-process controllers).
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { KubeObject } from "../../../controllers/runtime/keys";
import { ResourceRef } from "../../../controllers/runtime/kube";
import { ControllerProcess, startControllerProcess } from "../../property/support";
import { configMap } from "./support";

const kustomizations: ResourceRef = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations", kind: "Kustomization" };
const gitRepositories: ResourceRef = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };
const configMaps: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
const serviceAccounts: ResourceRef = { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" };
const roles: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "roles", kind: "Role" };
const roleBindings: ResourceRef = { group: "rbac.authorization.k8s.io", version: "v1", plural: "rolebindings", kind: "RoleBinding" };
type Cond = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number };
type K = KubeObject & { status?: { conditions?: Cond[]; inventory?: unknown } };

describe("multi-tenancy lockdown: cross-namespace refs, RBAC of the default ServiceAccount, remote bases", function () {
  this.timeout(180_000);
  let ctl: ControllerProcess;
  let tenant: string, platform: string, other: string;

  async function gitRepo(ns: string, files: Record<string, string>): Promise<import("../../support/git-server").GitServers> {
    const servers = await startGitServers({ files, http: {} });
    onTeardown(() => servers.close());
    await ctl.client.create(gitRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository",
      metadata: { name: "repo", namespace: ns, labels: ctl.labels }, spec: { interval: "10m", url: servers.urls.http!, ref: { branch: "main" } } } as never);
    return servers;
  }

  async function kustomization(name: string, spec: Record<string, unknown>): Promise<void> {
    await ctl.client.create(kustomizations, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization",
      metadata: { name, namespace: tenant, labels: ctl.labels },
      spec: { interval: "10m", retryInterval: "2s", prune: true, sourceRef: { kind: "GitRepository", name: "repo" }, ...spec } } as never);
  }

  async function ready(name: string, status: "True" | "False", reason?: string): Promise<K> {
    let last: K | undefined;
    return eventually(async () => {
      last = await ctl.client.get<K>(kustomizations, { namespace: tenant, name });
      const r = last?.status?.conditions?.find((c) => c.type === "Ready");
      return r?.status === status && (!reason || r.reason === reason) && r.observedGeneration === last!.metadata!.generation ? last : undefined;
    }, { timeoutMs: 60_000, what: `Kustomization ${name} Ready=${status} ${reason ?? ""}` })
      .catch((e) => { throw new Error(`${(e as Error).message}; last ${JSON.stringify(last?.status?.conditions)}`); });
  }
  const ready_ = (k: K) => k.status!.conditions!.find((c) => c.type === "Ready")!;

  before(async () => {
    ctl = await startControllerProcess({ only: ["source", "kustomize"],
      args: ["--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=tenant"] });
    [tenant, platform, other] = [await newNamespace("tenant"), await newNamespace("platform"), await newNamespace("other")];
    // The tenant's ServiceAccount may manage ConfigMaps in its own namespace only.
    await ctl.client.create(serviceAccounts, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "tenant", namespace: tenant } } as never);
    await ctl.client.create(roles, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "tenant", namespace: tenant },
      rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["*"] }] } as never);
    await ctl.client.create(roleBindings, { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "tenant", namespace: tenant },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "tenant" }, subjects: [{ kind: "ServiceAccount", name: "tenant", namespace: tenant }] } as never);
    await gitRepo(platform, { "platform/cm.yaml": configMap("platform", { v: "1" }) });
  });

  afterEach(() => ctl.assertHealthy());

  it("the tenant's own source and namespace: applied as the default ServiceAccount", async () => {
    await gitRepo(tenant, {
      "own/cm.yaml": configMap("own", { v: "1" }),
      "escape/cm.yaml": configMap("escape", { v: "1" }),
      "remote/kustomization.yaml": "resources:\n  - ../own\n  - https://github.com/example/app//deploy?ref=v1.0.0\n",
    });
    await kustomization("own", { path: "./own", targetNamespace: tenant });
    await ready("own", "True");
    const cm = await ctl.client.get<KubeObject>(configMaps, { namespace: tenant, name: "own" });
    expect(cm, "applied in the tenant's namespace").to.not.equal(undefined);
  });

  it("cannot use another namespace's source: AccessDenied, stalled", async () => {
    await kustomization("cross", { path: "./platform", targetNamespace: tenant, sourceRef: { kind: "GitRepository", name: "repo", namespace: platform } });
    const k = await ready("cross", "False", "AccessDenied");
    expect(ready_(k).message).to.equal(`can't access 'GitRepository/${platform}/repo', cross-namespace references have been blocked`);
    expect(k.status?.conditions?.find((c) => c.type === "Stalled")).to.include({ status: "True", reason: "AccessDenied" });
    expect(await ctl.client.get(configMaps, { namespace: tenant, name: "platform" })).to.equal(undefined);
  });

  it("cannot apply outside its ServiceAccount's RBAC: forbidden, nothing created", async () => {
    await kustomization("escape", { path: "./escape", targetNamespace: other });
    const k = await ready("escape", "False", "ReconciliationFailed");
    expect(ready_(k).message).to.include(`User "system:serviceaccount:${tenant}:tenant" cannot patch resource "configmaps"`);
    expect(ready_(k).message).to.include(`in the namespace "${other}"`);
    expect(await ctl.client.get(configMaps, { namespace: other, name: "escape" })).to.equal(undefined);
  });

  it("cannot fetch a remote base: BuildFailed before any fetch, what it applied stays", async () => {
    await kustomization("remote", { path: "./remote", targetNamespace: tenant });
    const k = await ready("remote", "False", "BuildFailed");
    expect(ready_(k).message).to.match(/is a remote base, which this controller refuses \(--no-remote-bases\)/);
    expect(await ctl.client.get(configMaps, { namespace: tenant, name: "own" }), "the tenant's earlier apply stays").to.not.equal(undefined);
    expect(ready_(await ready("own", "True"))).to.include({ status: "True" });
  });
});
