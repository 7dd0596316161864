// spec.dependsOn, the part every Flux applier shares: each named object (namespace defaulting
// to the dependent's) must exist, have observed its latest generation and be Ready. Callers
// add their own checks (the kustomize-controller also compares source revisions).
import type { DependencyReference } from "../api/meta";
import { isTrue } from "./conditions";
import { KubeClient, ResourceRef } from "./kube";
import { KubeObject } from "./keys";

/** A dependency is missing or not Ready yet: requeue at the dependency interval. */
export class DependencyNotReadyError extends Error {
  override readonly name = "DependencyNotReadyError";
}

/** A dependency feature this controller does not implement (CEL readyExpr): a stall. */
export class UnsupportedDependencyError extends Error {
  override readonly name = "UnsupportedDependencyError";
}

type WithStatus = KubeObject & { status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } };

/** helm-controller's wording for a missing dependency; the kustomize-controller has its own. */
const unableToGet = (id: string, cause: string) => `unable to get '${id}' dependency: ${cause}`;

/**
 * Checks the dependencies of `obj`, in order, as objects of `resource`, and returns them. The
 * errors carry Flux's messages: `notFound` (by default `unable to get '<ns>/<name>' dependency:
 * ...`) and `dependency '<ns>/<name>' is not ready`.
 */
export async function checkReadyDependencies<T extends KubeObject = WithStatus>(obj: KubeObject, refs: readonly DependencyReference[],
  resource: ResourceRef, client: KubeClient, signal?: AbortSignal,
  notFound: (id: string, cause: string) => string = unableToGet): Promise<T[]> {
  const found: T[] = [];
  for (const d of refs) {
    const ns = d.namespace || obj.metadata!.namespace!;
    const id = `${ns}/${d.name}`;
    if (d.readyExpr) throw new UnsupportedDependencyError(`dependency '${id}': readyExpr (CEL) is not supported by this controller`);
    const dep = await client.get<WithStatus>(resource, { namespace: ns, name: d.name }, { signal });
    if (!dep) {
      const gr = resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
      throw new DependencyNotReadyError(notFound(id, `${gr} "${d.name}" not found`));
    }
    if (!dep.status?.conditions?.length || dep.metadata?.generation !== dep.status.observedGeneration || !isTrue(dep as never, "Ready")) {
      throw new DependencyNotReadyError(`dependency '${id}' is not ready`);
    }
    found.push(dep as unknown as T);
  }
  return found;
}

/** The Kubernetes user of a ServiceAccount, as impersonated by Flux's appliers. */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;
