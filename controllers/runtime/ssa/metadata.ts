// Label and annotation helpers for applied objects: owner labels, common metadata, and the
// policy selectors (`kustomize.toolkit.fluxcd.io/ssa: IfNotPresent` and friends) matched
// case-insensitively on labels or annotations, as Flux matches them.
import { KubeObject } from "../keys";

/** Sets `labels` on every object, overriding existing keys. */
export function setLabels(objects: KubeObject[], labels: Record<string, string>): void {
  if (Object.keys(labels).length === 0) return;
  for (const o of objects) {
    const meta = (o.metadata ??= {});
    meta.labels = { ...(meta.labels ?? {}), ...labels };
  }
}

/** Sets `annotations` on every object, overriding existing keys. */
export function setAnnotations(objects: KubeObject[], annotations: Record<string, string>): void {
  if (Object.keys(annotations).length === 0) return;
  for (const o of objects) {
    const meta = (o.metadata ??= {});
    meta.annotations = { ...(meta.annotations ?? {}), ...annotations };
  }
}

/** True when any key of `selector` is set, with an equal value ignoring case, as a label or annotation. */
export function anyInMetadata(obj: KubeObject | undefined, selector: Record<string, string> | undefined): boolean {
  if (!obj || !selector) return false;
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(selector)) {
    const want = v.toLowerCase();
    if (labels[k] && labels[k].toLowerCase() === want) return true;
    if (annotations[k] && annotations[k].toLowerCase() === want) return true;
  }
  return false;
}

/** True when every label of `selector` is on the object (a match-labels selector). */
export function matchesLabels(obj: KubeObject, selector: Record<string, string> | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** `k1=v1,k2=v2` for a label selector query. */
export function labelSelectorString(selector: Record<string, string>): string {
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(",");
}
