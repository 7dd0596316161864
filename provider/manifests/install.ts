/**
 * The install manifests: every object an installation of the controllers consists of, rendered
 * from code (no download, so preview works offline), in the order kustomize emits them.
 */
import type { InstallOptions, InstallPatch } from "../args/install";
import { namespaceObject, networkPolicies, rbac, resourceQuota } from "./cluster-objects";
import { deployment, serviceAccount, services, shardedComponents } from "./controllers";
import { crds } from "./crds";
import { customisationPatches } from "./customisation";
import { applyInstallPatches } from "./json-patch";
import type { KubeManifest } from "./objects";
import { resolveInstallOptions, type ResolvedInstallOptions } from "./options";

/** kustomize's legacy kind order: what must exist first comes first. */
const kindOrder = [
  "Namespace",
  "ResourceQuota",
  "CustomResourceDefinition",
  "ServiceAccount",
  "ClusterRole",
  "ClusterRoleBinding",
  "Service",
  "Deployment",
  "NetworkPolicy",
];

export function sortByKind(objects: readonly KubeManifest[]): KubeManifest[] {
  const rank = (k: string) => (kindOrder.includes(k) ? kindOrder.indexOf(k) : kindOrder.length);
  return [...objects].sort((a, b) => rank(a.kind) - rank(b.kind));
}

export interface RenderedInstall {
  options: ResolvedInstallOptions;
  /** gotk-components.yaml: the base objects, without customisation. */
  base: KubeManifest[];
  /** The customisation as JSON6902 patches (kustomization.yaml `patches`). */
  patches: InstallPatch[];
  /** base with patches applied: what gets applied to the cluster. */
  objects: KubeManifest[];
}

/** Renders the base objects of an installation (no customisation). */
export function renderBase(o: ResolvedInstallOptions): KubeManifest[] {
  const objects: KubeManifest[] = [namespaceObject(o), resourceQuota(o), ...crds(o)];
  for (const c of o.components) objects.push(serviceAccount(o, c));
  objects.push(...rbac(o));
  for (const c of o.components) objects.push(...services(o, c));
  // Flux's sharding guide: each shard's source/kustomize/helm instance, with the main ServiceAccounts and RBAC.
  for (const shard of o.shards) for (const c of shardedComponents(o)) objects.push(...services(o, c, shard));
  for (const c of o.components) objects.push(deployment(o, c));
  for (const shard of o.shards) for (const c of shardedComponents(o)) objects.push(deployment(o, c, shard));
  if (o.networkPolicy) objects.push(...networkPolicies(o));
  return sortByKind(objects);
}

/** Resolves the options, renders the base, derives the patches and applies them. */
export function renderInstall(opts: InstallOptions = {}, requireSync = false): RenderedInstall {
  const options = resolveInstallOptions(opts, requireSync);
  const base = renderBase(options);
  const patches = customisationPatches(base, options.customisation);
  const objects = applyInstallPatches(base, patches);
  return { options, base, patches, objects };
}
