// dependsOn: every dependency must exist, have observed its latest generation, be Ready,
// and, when it builds from the same source, have applied the source's current revision.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { KustomizationNames } from "../api/kustomize/v1/kustomization";
import { KubeClient } from "../runtime/kube";
import { isTrue } from "../runtime/conditions";

export const kustomizations = {
  group: KustomizationNames.group, version: KustomizationNames.version, plural: KustomizationNames.plural, kind: KustomizationNames.kind,
};

export class DependencyNotReadyError extends Error {
  override readonly name = "DependencyNotReadyError";
}

/** A dependency feature this controller does not implement (CEL readyExpr). */
export class UnsupportedDependencyError extends Error {
  override readonly name = "UnsupportedDependencyError";
}

export async function checkDependencies(obj: Kustomization, revision: string, client: KubeClient, signal?: AbortSignal): Promise<void> {
  for (const d of obj.spec.dependsOn ?? []) {
    const ns = d.namespace || obj.metadata.namespace!;
    const name = `${ns}/${d.name}`;
    if (d.readyExpr) throw new UnsupportedDependencyError(`dependency '${name}': readyExpr (CEL) is not supported by this controller`);
    const dep = await client.get<Kustomization>(kustomizations, { namespace: ns, name: d.name }, { signal });
    if (!dep) throw new DependencyNotReadyError(`dependency '${name}' not found: kustomizations.kustomize.toolkit.fluxcd.io "${d.name}" not found`);
    if (!dep.status?.conditions?.length || dep.metadata.generation !== dep.status.observedGeneration || !isTrue(dep, "Ready")) {
      throw new DependencyNotReadyError(`dependency '${name}' is not ready`);
    }
    const sameSource = dep.spec.sourceRef.name === obj.spec.sourceRef.name && dep.spec.sourceRef.kind === obj.spec.sourceRef.kind
      && (dep.spec.sourceRef.namespace || dep.metadata.namespace) === (obj.spec.sourceRef.namespace || obj.metadata.namespace);
    if (sameSource && !hasRevision(revision, dep.status.lastAppliedRevision)) {
      throw new DependencyNotReadyError(`dependency '${name}' revision is not up to date`);
    }
  }
}

/** Flux's Artifact.HasRevision: equal once legacy `<ref>/<sha>` revisions are rewritten `<ref>@sha1:<sha>`. */
export function hasRevision(current: string, other: string | undefined): boolean {
  return other !== undefined && other !== "" && legacy(current) === legacy(other);
}

function legacy(r: string): string {
  const m = /^(.*)\/([0-9a-f]{40})$/.exec(r);
  return m && !r.includes("@") ? `${m[1]}@sha1:${m[2]}` : r;
}
