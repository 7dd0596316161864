// Clients that act as another user (spec.serviceAccountName, --default-service-account): the
// kustomize- and helm-controller apply and read as the tenant's ServiceAccount, as Flux does.
import * as k8s from "@kubernetes/client-node";

/** A copy of `kc` whose current user impersonates `user`. */
export function impersonating(kc: k8s.KubeConfig, user: string): k8s.KubeConfig {
  const current = kc.getCurrentUser();
  const out = new k8s.KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
    users: kc.users.map((u) => (u.name === current?.name ? { ...u, impersonateUser: user } : u)),
  });
  return out;
}
