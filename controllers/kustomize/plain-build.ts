// The build of a plain directory, done in-process when it is exactly what `kustomize build`
// of the generated kustomization would produce: every YAML document of the directory tree,
// with spec.targetNamespace set on namespaced objects. Only simple cases qualify (no
// kustomization files, no spec transformations, no post-build or decryption, only common
// namespaced kinds, no anchors or merge keys, no duplicates); anything else returns
// undefined and goes through the real kustomize. A unit test holds this to kustomize's output.
import type { KustomizationSpec } from "../api/kustomize/v1/kustomization";
import { FileTree } from "../runtime/tar-reader";
import { KUSTOMIZATION_FILES, filesUnder } from "./file-tree";
import { parseDoc, splitDocs } from "./yaml-docs";

/** Namespaced built-in kinds the namespace transformer only sets metadata.namespace on. */
const SIMPLE_KINDS = new Set([
  "v1/ConfigMap", "v1/Secret", "v1/Service", "v1/ServiceAccount", "v1/Pod", "v1/PersistentVolumeClaim", "v1/LimitRange",
  "v1/ResourceQuota", "v1/Endpoints", "apps/v1/Deployment", "apps/v1/StatefulSet", "apps/v1/DaemonSet", "apps/v1/ReplicaSet",
  "batch/v1/Job", "batch/v1/CronJob", "networking.k8s.io/v1/Ingress", "networking.k8s.io/v1/NetworkPolicy",
  "autoscaling/v2/HorizontalPodAutoscaler", "policy/v1/PodDisruptionBudget", "rbac.authorization.k8s.io/v1/Role",
]);

export type Doc = { text: string; obj: Record<string, unknown> };

export function plainBuild(files: FileTree, dir: string, spec: KustomizationSpec): Doc[] | undefined {
  if (spec.patches?.length || spec.images?.length || spec.namePrefix || spec.nameSuffix || spec.components?.length
    || spec.buildMetadata?.length || spec.postBuild || spec.decryption) return undefined;
  const paths = filesUnder(files, dir).sort();
  if (paths.some((p) => KUSTOMIZATION_FILES.some((k) => p === k || p.endsWith(`/${k}`)))) return undefined;
  const out: Doc[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    if (!/\.ya?ml$/.test(p)) continue;
    const text = files.get(p)!.toString("utf8");
    if (/(^|[\s[{,])[&*][^\s]/.test(text) || text.includes("<<") || text.includes("\t")) return undefined;
    for (const d of splitDocs(text)) {
      let obj: unknown;
      try { obj = parseDoc(d); } catch { return undefined; }
      if (obj === null || obj === undefined) continue;
      if (typeof obj !== "object" || Array.isArray(obj)) return undefined;
      const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } };
      if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string") return undefined;
      if (!SIMPLE_KINDS.has(`${o.apiVersion}/${o.kind}`)) return undefined;
      if (spec.targetNamespace) o.metadata.namespace = spec.targetNamespace;
      const id = `${o.apiVersion}/${o.kind}/${String(o.metadata.namespace ?? "")}/${o.metadata.name}`;
      if (seen.has(id)) return undefined;
      seen.add(id);
      out.push({ text: d, obj: obj as Record<string, unknown> });
    }
  }
  return out;
}
