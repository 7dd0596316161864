// The floor: the same ConfigMaps applied by a bare server-side-apply loop (one keep-alive
// client, PATCH apply-patch, field manager, force) with the same client QPS/burst.
import { KubeClient } from "../controllers/runtime/kube";
import { mapLimit } from "../controllers/runtime/ssa";
import { parseDoc } from "../controllers/kustomize/yaml-docs";
import { configMapYaml, ensureNamespace } from "./kustomize-workload";

const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };

/** Applies count*per ConfigMaps into `<side>-<i>` namespaces; returns the wall time in ms. */
export async function floorRun(client: KubeClient, side: string, count: number, per: number, inFlight: number): Promise<number> {
  const idx = [...Array(count).keys()];
  await mapLimit(idx, 16, (i) => ensureNamespace(client, `${side}-${i}`));
  const objects = idx.flatMap((i) => [...Array(per).keys()].map((j) => {
    const o = parseDoc(configMapYaml(`cm-${j}`, i, j)) as { metadata: { namespace?: string } };
    o.metadata.namespace = `${side}-${i}`;
    return o;
  }));
  const t0 = Date.now();
  await mapLimit(objects, inFlight, (o) => client.apply(configMaps, o as never, { fieldManager: "bench-floor", force: true }));
  return Date.now() - t0;
}
