/**
 * Typed customisation → JSON6902 patches over the controller Deployments. The patches are
 * computed against the rendered base, so every `add` lands on a path that exists.
 */
import type { Component, Customisation, InstallPatch, JsonPatchOperation } from "../args/install";
import { escapePointer } from "./json-patch";
import type { KubeManifest } from "./objects";

type Pod = { metadata?: { annotations?: object; labels?: object }; spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };

const podOf = (d: KubeManifest): Pod => (d.spec as { template: Pod }).template;

/** One patch per controller Deployment that the typed fields change, then the raw patches. */
export function customisationPatches(base: readonly KubeManifest[], c: Customisation): InstallPatch[] {
  const out: InstallPatch[] = [];
  for (const d of base.filter((o) => o.kind === "Deployment")) {
    const name = d.metadata.name;
    // A shard's Deployment (`<component>-<shard>`) takes its component's resources and extraArgs.
    const component = (d.metadata.labels?.["app.kubernetes.io/component"] ?? name) as Component;
    const pod = podOf(d);
    const ops: JsonPatchOperation[] = [];
    const container = pod.spec.containers[0]!;
    const tmpl = "/spec/template";
    for (const [k, v] of Object.entries(c.podAnnotations ?? {})) {
      ops.push({ op: "add", path: `${tmpl}/metadata/annotations/${escapePointer(k)}`, value: v });
    }
    for (const [k, v] of Object.entries(c.podLabels ?? {})) {
      ops.push({ op: "add", path: `${tmpl}/metadata/labels/${escapePointer(k)}`, value: v });
    }
    for (const [k, v] of Object.entries(c.nodeSelector ?? {})) {
      ops.push({ op: "add", path: `${tmpl}/spec/nodeSelector/${escapePointer(k)}`, value: v });
    }
    if (c.tolerations && c.tolerations.length > 0) {
      const tolerations = c.tolerations.map((t) => ({ operator: "Exists", ...t }));
      if (Array.isArray(pod.spec.tolerations)) {
        for (const t of tolerations) ops.push({ op: "add", path: `${tmpl}/spec/tolerations/-`, value: t });
      } else {
        ops.push({ op: "add", path: `${tmpl}/spec/tolerations`, value: tolerations });
      }
    }
    if (c.priorityClassName !== undefined) {
      ops.push({ op: "add", path: `${tmpl}/spec/priorityClassName`, value: c.priorityClassName });
    }
    const res = c.resources?.[component];
    for (const kind of ["requests", "limits"] as const) {
      for (const [k, v] of Object.entries(res?.[kind] ?? {})) {
        ops.push({ op: "add", path: `${tmpl}/spec/containers/0/resources/${kind}/${escapePointer(k)}`, value: v });
      }
    }
    for (const arg of c.extraArgs?.[component] ?? []) {
      ops.push({ op: "add", path: `${tmpl}/spec/containers/0/args/-`, value: arg });
    }
    const env = container.env as { name: string }[] | undefined;
    for (const [k, v] of Object.entries(c.env ?? {})) {
      const i = env?.findIndex((e) => e.name === k) ?? -1;
      if (i >= 0) ops.push({ op: "replace", path: `${tmpl}/spec/containers/0/env/${i}`, value: { name: k, value: v } });
      else ops.push({ op: "add", path: `${tmpl}/spec/containers/0/env/-`, value: { name: k, value: v } });
    }
    if (ops.length > 0) out.push({ target: { kind: "Deployment", name }, operations: ops });
  }
  return [...out, ...(c.patches ?? [])];
}
