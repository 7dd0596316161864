/**
 * The CRDs of the selected controllers, straight from controllers/api (the single definition of
 * every kind), labelled as Flux labels its CRDs.
 */
import { allCrds } from "../../controllers/api/registry";
import type { AnyComponent } from "../args/install";
import { componentLabels, controllerDefs } from "./controllers";
import { clone, type KubeManifest } from "./objects";
import type { ResolvedInstallOptions } from "./options";

/** Which controller serves a kind: per group, except where Flux splits a group (image.toolkit.fluxcd.io). */
export function componentOfCrd(group: string, kind: string): AnyComponent | undefined {
  for (const def of Object.values(controllerDefs)) {
    if (def.crds.some((c) => c.group === group && (!c.kinds || c.kinds.includes(kind)))) return def.name;
  }
  return undefined;
}

export function crds(o: ResolvedInstallOptions): KubeManifest[] {
  const out: KubeManifest[] = [];
  for (const crd of allCrds()) {
    const component = componentOfCrd(crd.spec.group, crd.spec.names.kind);
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
