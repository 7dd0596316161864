// spec.dependsOn, the part every Flux applier shares: each named object (namespace defaulting
// to the dependent's) must exist, then either satisfy its CEL `readyExpr` (variables `self`,
// the dependent, and `dep`, the dependency) or, without one, have observed its latest
// generation and be Ready. As in Flux, a readyExpr replaces the built-in check unless the
// AdditiveCELDependencyCheck feature gate asks for both. Callers add their own checks (the
// kustomize-controller also compares source revisions) on the dependencies returned.
import type { DependencyReference } from "../api/meta";
import { CelError, compileBool } from "./cel";
import { isTrue } from "./conditions";
import { KubeClient, ResourceRef } from "./kube";
import { KubeObject } from "./keys";

/** A dependency is missing or not Ready yet: requeue at the dependency interval. */
export class DependencyNotReadyError extends Error {
  override readonly name = "DependencyNotReadyError";
}

/** A readyExpr that does not compile: a configuration error, stalled with InvalidCELExpression. */
export class InvalidReadyExprError extends Error {
  override readonly name = "InvalidReadyExprError";
}

type WithStatus = KubeObject & { status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } };

/** helm-controller's wording for a missing dependency; the kustomize-controller has its own. */
const unableToGet = (id: string, cause: string) => `unable to get '${id}' dependency: ${cause}`;

export interface DependencyCheckOptions {
  signal?: AbortSignal;
  /** The message for a missing dependency; default `unable to get '<ns>/<name>' dependency: ...`. */
  notFound?: (id: string, cause: string) => string;
  /** AdditiveCELDependencyCheck: a readyExpr is checked in addition to the built-in check. */
  additiveCel?: boolean;
}

/**
 * Checks the dependencies of `obj`, in order, as objects of `resource`. Returns the ones that
 * went through the built-in check (all but those a readyExpr alone decided), for the caller's
 * own checks. Errors carry Flux's messages: `DependencyNotReadyError` (missing, `dependency
 * '<ns>/<name>' is not ready`, `... is not ready according to readyExpr eval`, or the
 * expression's evaluation error) and `InvalidReadyExprError` (does not compile).
 */
export async function checkReadyDependencies<T extends KubeObject = WithStatus>(obj: KubeObject, refs: readonly DependencyReference[],
  resource: ResourceRef, client: KubeClient, opts: DependencyCheckOptions = {}): Promise<T[]> {
  const found: T[] = [];
  for (const d of refs) {
    const ns = d.namespace || obj.metadata!.namespace!;
    const id = `${ns}/${d.name}`;
    const dep = await client.get<WithStatus>(resource, { namespace: ns, name: d.name }, { signal: opts.signal });
    if (!dep) {
      const gr = resource.group ? `${resource.plural}.${resource.group}` : resource.plural;
      throw new DependencyNotReadyError((opts.notFound ?? unableToGet)(id, `${gr} "${d.name}" not found`));
    }
    if (d.readyExpr) {
      if (!evalReadyExpr(d.readyExpr, obj, dep)) throw new DependencyNotReadyError(`dependency '${id}' is not ready according to readyExpr eval`);
      if (!opts.additiveCel) continue;
    }
    if (!dep.status?.conditions?.length || dep.metadata?.generation !== dep.status.observedGeneration || !isTrue(dep as never, "Ready")) {
      throw new DependencyNotReadyError(`dependency '${id}' is not ready`);
    }
    found.push(dep as unknown as T);
  }
  return found;
}

function evalReadyExpr(expr: string, self: KubeObject, dep: KubeObject): boolean {
  let ready;
  try {
    ready = compileBool(expr, ["self", "dep"], { typeChecked: true });
  } catch (e) {
    if (!(e instanceof CelError)) throw e;
    throw new InvalidReadyExprError(`failed to evaluate dependency ${dep.metadata?.name}: failed to parse the CEL expression '${expr}': ${e.message}`);
  }
  try {
    return ready({ self, dep });
  } catch (e) {
    // A field the dependency does not have (yet): not ready, retried, as in Flux.
    if (!(e instanceof CelError)) throw e;
    throw new DependencyNotReadyError(`failed to evaluate the CEL expression '${expr}': ${e.message}`);
  }
}

/** The Kubernetes user of a ServiceAccount, as impersonated by Flux's appliers. */
export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;
