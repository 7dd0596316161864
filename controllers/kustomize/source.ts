// Resolving spec.sourceRef to a source object with an artifact. Sources are read from a
// cache the source watches fill (the same events that trigger reconciles), falling back to
// a GET on a miss, so a reconcile usually costs no request here.
import type { Kustomization } from "../api/kustomize/v1/kustomization";
import { BucketNames } from "../api/source/v1/bucket";
import { ExternalArtifactNames } from "../api/source/v1/external-artifact";
import { GitRepositoryNames } from "../api/source/v1/git-repository";
import { OCIRepositoryNames } from "../api/source/v1/oci-repository";
import { KubeClient, ResourceRef } from "../runtime/kube";
import { KubeObject, formatKey } from "../runtime/keys";

export interface SourceArtifact { url: string; digest?: string; revision: string; metadata?: Record<string, string> }
export type SourceObject = KubeObject & { status?: { artifact?: SourceArtifact } };

const ref = (n: { group: string; version: string; plural: string; kind: string }): ResourceRef => ({ group: n.group, version: n.version, plural: n.plural, kind: n.kind });
export const sourceResources: Record<string, ResourceRef> = {
  GitRepository: ref(GitRepositoryNames),
  OCIRepository: ref(OCIRepositoryNames),
  Bucket: ref(BucketNames),
  ExternalArtifact: ref(ExternalArtifactNames),
};

/** Refused by configuration (cross-namespace refs, a disabled kind): a stall, not a retry. */
export class AccessDeniedError extends Error {
  override readonly name = "AccessDeniedError";
}

export class SourceNotFoundError extends Error {
  override readonly name = "SourceNotFoundError";
}

/** Sources seen by the watches, by `Kind/namespace/name`. */
export class SourceCache {
  readonly #items = new Map<string, SourceObject>();
  static key(kind: string, namespace: string, name: string): string { return `${kind}/${formatKey({ namespace, name })}`; }
  set(kind: string, obj: SourceObject): void { this.#items.set(SourceCache.key(kind, obj.metadata?.namespace ?? "", obj.metadata?.name ?? ""), obj); }
  delete(kind: string, obj: SourceObject): void { this.#items.delete(SourceCache.key(kind, obj.metadata?.namespace ?? "", obj.metadata?.name ?? "")); }
  get(kind: string, namespace: string, name: string): SourceObject | undefined { return this.#items.get(SourceCache.key(kind, namespace, name)); }
}

export interface SourceOptions {
  noCrossNamespaceRefs: boolean;
  allowExternalArtifact: boolean;
  cache?: SourceCache;
  signal?: AbortSignal;
}

/** `GitRepository/namespace/name` as Flux prints a source reference. */
export function sourceRefString(obj: Kustomization): string {
  const r = obj.spec.sourceRef;
  return `${r.kind}/${r.namespace || obj.metadata.namespace}/${r.name}`;
}

export async function getSource(obj: Kustomization, client: KubeClient, opts: SourceOptions): Promise<SourceObject> {
  const r = obj.spec.sourceRef;
  const ns = r.namespace || obj.metadata.namespace!;
  const named = `${ns}/${r.name}`;
  if (opts.noCrossNamespaceRefs && ns !== obj.metadata.namespace) {
    throw new AccessDeniedError(`can't access '${r.kind}/${named}', cross-namespace references have been blocked`);
  }
  if (r.kind === "ExternalArtifact" && !opts.allowExternalArtifact) {
    throw new AccessDeniedError(`can't access '${r.kind}/${named}', ExternalArtifact feature gate is disabled`);
  }
  const res = sourceResources[r.kind];
  if (!res) throw new Error(`source \`${r.name}\` kind '${r.kind}' not supported`);
  const cached = opts.cache?.get(r.kind, ns, r.name);
  if (cached) return cached;
  let got: SourceObject | undefined;
  try {
    got = await client.get<SourceObject>(res, { namespace: ns, name: r.name }, { signal: opts.signal });
  } catch (e) {
    throw new Error(`unable to get source '${named}': ${(e as Error).message}`, { cause: e });
  }
  if (!got) throw new SourceNotFoundError(`${res.plural}.${res.group} "${r.name}" not found`);
  return got;
}
