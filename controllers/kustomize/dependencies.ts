// dependsOn: every dependency must exist, have observed its latest generation, be Ready,
// and, when it builds from the same source, have applied the source's current revision; a
// readyExpr replaces all of that (with AdditiveCELDependencyCheck it is checked first, then all of that).
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { KustomizationNames } from "../api/kustomize/v1/kustomization";
import { DependencyNotReadyError, checkReadyDependencies } from "../runtime/dependencies";
import { KubeClient } from "../runtime/kube";

export const kustomizations = {
  group: KustomizationNames.group, version: KustomizationNames.version, plural: KustomizationNames.plural, kind: KustomizationNames.kind,
};

export async function checkDependencies(obj: Kustomization, revision: string, client: KubeClient,
  opts: { signal?: AbortSignal; additiveCel?: boolean } = {}): Promise<void> {
  const deps = await checkReadyDependencies<Kustomization>(obj, obj.spec.dependsOn ?? [], kustomizations, client, {
    ...opts, notFound: (id, cause) => `dependency '${id}' not found: ${cause}`,
  });
  for (const dep of deps) {
    const sameSource = dep.spec.sourceRef.name === obj.spec.sourceRef.name && dep.spec.sourceRef.kind === obj.spec.sourceRef.kind
      && (dep.spec.sourceRef.namespace || dep.metadata.namespace) === (obj.spec.sourceRef.namespace || obj.metadata.namespace);
    if (sameSource && !hasRevision(revision, dep.status?.lastAppliedRevision)) {
      throw new DependencyNotReadyError(`dependency '${dep.metadata.namespace}/${dep.metadata.name}' revision is not up to date`);
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
