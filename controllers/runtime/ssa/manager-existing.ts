// What is in the cluster for a set of desired objects, and whether a dry-run result differs
// from it. Objects we applied before carry the owner labels, so one LIST per resource and
// namespace finds them all (instead of a GET per object); an object missing from the LIST is
// either new or not ours yet, which the dry-run result tells apart. When LIST is forbidden
// (an impersonated account may only get), it falls back to one GET per object.
import { deepEqual } from "../json-merge";
import { isForbidden, isNotFound } from "../kube-errors";
import { formatKey } from "../keys";
import { mapLimit } from "./limit";
import { labelSelectorString } from "./metadata";
import type { ResourceManager } from "./manager";
import { Unstructured } from "./object-id";
import { ResourceMapping } from "./rest-mapper";

export interface Desired {
  obj: Unstructured;
  mapping: ResourceMapping;
}

/** Key of an object within the set: resource path plus namespace/name. */
export function existingKey(mapping: ResourceMapping, namespace: string, name: string): string {
  return `${mapping.group}/${mapping.plural}|${formatKey({ namespace: mapping.namespaced ? namespace : "", name })}`;
}

/** Live objects (with apiVersion and kind) keyed by `existingKey`. */
export async function fetchExisting(m: ResourceManager, items: Desired[], signal?: AbortSignal): Promise<Map<string, Unstructured>> {
  const found = new Map<string, Unstructured>();
  const groups = new Map<string, Desired[]>();
  for (const d of items) {
    const ns = d.mapping.namespaced ? d.obj.metadata?.namespace ?? "" : "";
    const k = `${d.mapping.group}/${d.mapping.version}/${d.mapping.plural}|${ns}`;
    groups.set(k, [...(groups.get(k) ?? []), d]);
  }
  await mapLimit([...groups.values()], m.concurrency, async (group) => {
    const { mapping, obj } = group[0];
    const ns = mapping.namespaced ? obj.metadata?.namespace ?? "" : "";
    if (m.ownerLabels && group.length > 1) {
      try {
        const list = await m.client.list<Unstructured>(mapping, { namespace: ns, labelSelector: labelSelectorString(m.ownerLabels), signal });
        for (const item of list.items) {
          item.apiVersion = obj.apiVersion;
          item.kind = mapping.kind;
          found.set(existingKey(mapping, ns, item.metadata?.name ?? ""), item);
        }
        return;
      } catch (e) {
        if (isNotFound(e)) return;
        if (!isForbidden(e)) throw e;
      }
    }
    await mapLimit(group, m.concurrency, async (d) => {
      const live = await getExisting(m, d, signal);
      if (live) found.set(existingKey(mapping, ns, d.obj.metadata?.name ?? ""), live);
    });
  });
  return found;
}

/**
 * One live object by GET (undefined when absent). A forbidden read is treated as unknown:
 * the dry-run that follows reports the missing rights with the API server's own words.
 */
export async function getExisting(m: ResourceManager, d: Desired, signal?: AbortSignal): Promise<Unstructured | undefined> {
  const ns = d.mapping.namespaced ? d.obj.metadata?.namespace ?? "" : "";
  try {
    const live = await m.client.get<Unstructured>(d.mapping, { namespace: ns, name: d.obj.metadata?.name ?? "" }, { signal });
    return live ? { ...live, apiVersion: d.obj.apiVersion, kind: d.mapping.kind } : undefined;
  } catch (e) {
    if (isForbidden(e)) return undefined;
    throw e;
  }
}

/**
 * Drift between the live object and the dry-run result: labels, annotations, and everything
 * outside metadata and status. Absent and empty maps are equal, as in Kubernetes' semantic
 * equality.
 */
export function hasDrifted(existing: Unstructured | undefined, dryRun: Unstructured): boolean {
  if (!existing || !dryRun.metadata?.resourceVersion) return true;
  if (!deepEqual(existing.metadata?.labels ?? {}, dryRun.metadata?.labels ?? {})) return true;
  if (!deepEqual(existing.metadata?.annotations ?? {}, dryRun.metadata?.annotations ?? {})) return true;
  return !deepEqual(stripForDiff(existing), stripForDiff(dryRun));
}

function stripForDiff(o: Unstructured): Record<string, unknown> {
  const { metadata: _m, status: _s, ...rest } = o;
  return rest;
}
