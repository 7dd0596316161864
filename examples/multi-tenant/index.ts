/**
 * A multi-tenant layout: the platform team bootstraps the cluster, then gives each tenant a
 * namespace, a ServiceAccount with admin rights in that namespace only, git credentials, and a
 * GitRepository + Kustomization that reconcile `tenants/<name>` of the fleet repository *as that
 * ServiceAccount* (impersonation) into the tenant's namespace.
 *
 * Kubernetes objects come from @pulumi/kubernetes with an explicit Provider; the tenants' Flux
 * objects use the same Provider (`kubernetesProvider`), the Bootstrap the kubeconfig itself:
 * both bind to the cluster late, at deploy time.
 *
 * Config: gitUrl, gitUsername (default gitops), gitPassword (secret), kubeconfig (secret),
 * tenants (default ["team-a", "team-b"]).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap, GitRepository, Kustomization } from "../../provider";

const config = new pulumi.Config();
const url = config.require("gitUrl");
const username = config.get("gitUsername") ?? "gitops";
const password = config.requireSecret("gitPassword");
const kubeconfig = config.requireSecret("kubeconfig");
const tenants = config.getObject<string[]>("tenants") ?? ["team-a", "team-b"];

const flux = new Bootstrap("flux", {
  url,
  path: "clusters/dev",
  http: { username, password, allowInsecureHttp: true },
  kubeconfig,
  components: ["source-controller", "kustomize-controller"],
  timeout: "3m",
});

const cluster = new k8s.Provider("cluster", { kubeconfig, enableServerSideApply: true });

export const tenantRevisions: Record<string, pulumi.Output<string>> = {};

for (const tenant of tenants) {
  const opts = { provider: cluster };
  const ns = new k8s.core.v1.Namespace(tenant, { metadata: { name: tenant, labels: { "toolkit.fluxcd.io/tenant": tenant } } }, opts);
  const inNs = { ...opts, dependsOn: [ns] };
  const sa = new k8s.core.v1.ServiceAccount(`${tenant}-reconciler`, { metadata: { name: "reconciler", namespace: tenant } }, inNs);
  const binding = new k8s.rbac.v1.RoleBinding(`${tenant}-reconciler`, {
    metadata: { name: "reconciler", namespace: tenant },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
    subjects: [{ kind: "ServiceAccount", name: "reconciler", namespace: tenant }],
  }, inNs);
  const secret = new k8s.core.v1.Secret(`${tenant}-git`, { metadata: { name: "git", namespace: tenant }, stringData: { username, password } }, inNs);

  const repo = new GitRepository(`${tenant}-repo`, {
    metadata: { name: tenant, namespace: tenant },
    spec: { url, interval: "1m", ref: { branch: "main" }, secretRef: { name: "git" } },
    kubernetesProvider: cluster,
  }, { dependsOn: [flux, secret] });

  const apps = new Kustomization(`${tenant}-apps`, {
    metadata: { name: tenant, namespace: tenant },
    spec: {
      interval: "5m",
      path: `./tenants/${tenant}`,
      prune: true,
      targetNamespace: tenant,
      serviceAccountName: "reconciler",
      sourceRef: { kind: "GitRepository", name: tenant },
    },
    kubernetesProvider: cluster,
  }, { dependsOn: [repo, sa, binding] });

  tenantRevisions[tenant] = apps.revision;
}

export const fluxRevision = flux.appliedRevision;
