/**
 * A `@pulumi/kubernetes` Provider as the cluster connection of our resources. Our resources do
 * their own I/O in the gitops plugin, so they need the Provider's kubeconfig and context, which
 * the Provider object does not expose: they are read from the engine's record of it
 * (`pulumi:pulumi:getResource`) once it is registered. Unknown values (a cluster created in the
 * same program, at preview) stay unknown, as the kubeconfig input's do.
 */
import * as pulumi from "@pulumi/pulumi";

export interface KubernetesProviderArg {
  /**
   * A `@pulumi/kubernetes` Provider whose kubeconfig and context these objects use, instead of
   * `kubeconfig`/`context` (TypeScript programs; SDKs of other languages pass `kubeconfig`).
   */
  kubernetesProvider?: pulumi.ProviderResource;
}

interface ProviderRecord {
  urn?: string;
  state?: Record<string, unknown>;
}

const KUBERNETES_PROVIDER_TYPE = "::pulumi:providers:kubernetes::";

/** `args` with `kubernetesProvider` replaced by the `kubeconfig` and `context` it holds. */
export function withKubernetesProvider<T extends { kubeconfig?: unknown; context?: unknown }>(
  owner: string, args: T & KubernetesProviderArg,
): Omit<T, "kubernetesProvider"> {
  const { kubernetesProvider: provider, ...rest } = args;
  if (!provider) return rest as Omit<T, "kubernetesProvider">;
  if (!pulumi.ProviderResource.isInstance(provider)) {
    throw new Error(`${owner}: kubernetesProvider must be a @pulumi/kubernetes Provider (new k8s.Provider(...))`);
  }
  if (rest.kubeconfig !== undefined || rest.context !== undefined) {
    throw new Error(`${owner}: give either kubernetesProvider or kubeconfig/context, not both`);
  }
  const record = pulumi.runtime.invokeOutput<ProviderRecord>("pulumi:pulumi:getResource", { urn: provider.urn }, { dependsOn: provider });
  const state = pulumi.all([provider.urn, record]).apply(([urn, r]) => {
    if (!urn.includes(KUBERNETES_PROVIDER_TYPE)) {
      throw new Error(`${owner}: kubernetesProvider ${urn} is not a @pulumi/kubernetes Provider`);
    }
    const s = r.state ?? {};
    if (typeof s.cluster === "string" && s.cluster !== "") {
      throw new Error(`${owner}: kubernetesProvider sets 'cluster', which is not supported here; select the cluster through a kubeconfig context ('context') instead`);
    }
    return s;
  });
  const text = (key: string) => state.apply((s) => (typeof s[key] === "string" && s[key] !== "" ? (s[key] as string) : undefined));
  const kubeconfig = text("kubeconfig").apply((k) => (k === undefined ? undefined : pulumi.secret(k)));
  return { ...rest, kubeconfig, context: text("context") } as unknown as Omit<T, "kubernetesProvider">;
}
