// spec.healthCheckExprs: CEL health checks for the release's custom resources, as for a
// Kustomization (runtime/health/custom.ts). helm's own --wait knows only the built-in kinds, so
// after an install/upgrade that waits (not disableWait, waitStrategy not `legacy`), the objects
// of the release manifest whose kind an entry covers are polled with those expressions until
// Current, within the action's timeout. A `failed` expression (or the timeout) fails the action
// as a failed helm wait does in Flux.
import { parseAllDocuments } from "yaml";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { FieldManager } from "../api/meta";
import { HealthStatus, StatusReader, celStatusReader } from "../runtime/health";
import { KubeClient } from "../runtime/kube";
import { ObjectRef, ResourceManager, RestMapper, formatObjMetadata, groupOf } from "../runtime/ssa";

/** The status reader of spec.healthCheckExprs; throws InvalidHealthCheckError on a bad entry. */
export const healthReaderOf = (hr: HelmRelease): StatusReader | undefined =>
  celStatusReader((hr.spec.healthCheckExprs ?? []) as Parameters<typeof celStatusReader>[0]);

export const healthExprsApply = (hr: HelmRelease, disableWait: boolean | undefined): boolean =>
  !disableWait && (hr.spec.healthCheckExprs?.length ?? 0) > 0 && hr.spec.waitStrategy?.name !== "legacy";

/**
 * Waits for the manifest's objects the expressions cover; resolves when all are Current, else
 * throws an Error whose message names each object not Current and what its expression said.
 */
export async function waitForCustomHealth(hr: HelmRelease, manifest: string, namespace: string, client: KubeClient,
  timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const reader = healthReaderOf(hr);
  if (!reader) return;
  const refs: ObjectRef[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJSON() as { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } } | null;
    if (!o?.apiVersion || !o.kind || !o.metadata?.name) continue;
    // Only the kinds an entry covers (the probe is an object without status: never evaluated further).
    let covered: boolean;
    try { covered = reader({ apiVersion: o.apiVersion, kind: o.kind, metadata: {} }) !== undefined; } catch { covered = true; }
    if (!covered) continue;
    refs.push({ apiVersion: o.apiVersion, group: groupOf(o.apiVersion), kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace ?? namespace });
  }
  if (!refs.length) return;
  const said = new Map<string, { status: HealthStatus; message: string }>();
  const recording: StatusReader = (obj) => {
    const r = reader(obj);
    const md = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    if (r) said.set(`${obj.kind}/${md.namespace ?? ""}/${md.name}`, r);
    if (r && !md.namespace) said.set(`${obj.kind}/*/${md.name}`, r);
    return r;
  };
  const m = new ResourceManager({ client, mapper: new RestMapper(client), fieldManager: FieldManager.Helm });
  try {
    await m.waitForSet(refs, { timeoutMs, intervalMs: 2000, failFast: true, statusReader: recording, signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    const details = refs.flatMap((r) => {
      const s = said.get(`${r.kind}/${r.namespace}/${r.name}`) ?? said.get(`${r.kind}/*/${r.name}`);
      return s && s.status !== HealthStatus.Current ? [`${formatObjMetadata(r)}: ${s.message}`] : [];
    });
    throw new Error(`${(e as Error).message}${details.length ? ` (${details.join("; ")})` : ""}`, { cause: e });
  }
}
