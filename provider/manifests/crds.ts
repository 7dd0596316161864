/**
 * The CRDs of the selected controllers, straight from controllers/api (the single definition of
 * every kind), labelled as Flux labels its CRDs.
 */
import { allCrds } from "../../controllers/api/registry";
import { Component } from "../args/install";
import { componentLabels } from "./controllers";
import { clone, type KubeManifest } from "./objects";
import type { ResolvedInstallOptions } from "./options";

/** Which controller serves which API group. */
export const componentOfGroup: Record<string, Component> = {
  "source.toolkit.fluxcd.io": Component.Source,
  "kustomize.toolkit.fluxcd.io": Component.Kustomize,
  "helm.toolkit.fluxcd.io": Component.Helm,
  "notification.toolkit.fluxcd.io": Component.Notification,
};

export function crds(o: ResolvedInstallOptions): KubeManifest[] {
  const out: KubeManifest[] = [];
  for (const crd of allCrds()) {
    const component = componentOfGroup[crd.spec.group];
    if (!component || !o.components.includes(component)) continue;
    const copy = clone(crd) as unknown as KubeManifest;
    copy.metadata = {
      ...copy.metadata,
      labels: { ...(crd.metadata.labels ?? {}), ...componentLabels(o, component) },
    };
    out.push(copy);
  }
  return out;
}
