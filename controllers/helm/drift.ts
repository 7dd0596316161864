// Drift detection (spec.driftDetection), as Flux's helm-controller does it for an in-sync
// release: each object of the stored release manifest is server-side applied as a dry-run
// (field manager helm-controller, forced) and the result compared with the cluster; a missing
// object or a changed one is drift. `warn` records it (Drifted=True DriftDetected, an event,
// a log line); `enabled` also corrects it by applying those objects for real. Ignore rules
// leave JSON pointer paths out of the applied objects (so they are neither compared nor
// corrected), for the objects their target selects; `helm.toolkit.fluxcd.io/driftDetection:
// disabled` (label or annotation) leaves an object out.
import { parseAllDocuments } from "yaml";
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { DriftDetectionMode } from "../api/helm/v2/helm-release-actions";
import { ConditionType as CT, FieldManager, Reason } from "../api/meta";
import { markFalse, markTrue } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import { RestMapper } from "../runtime/ssa/rest-mapper";
import { apiMessage } from "../runtime/ssa/errors";
import type { HelmDeps } from "./deps";
import { HelmRun, getManifest } from "./helm-cli";
import { releaseId } from "./release-status";

type Obj = KubeObject & Record<string, unknown>;
type IgnoreRule = NonNullable<NonNullable<HelmRelease["spec"]["driftDetection"]>["ignore"]>[number];

export const driftMode = (hr: HelmRelease): string => hr.spec.driftDetection?.mode ?? DriftDetectionMode.Disabled;

const full = (re: string | undefined, v: string): boolean => re === undefined || re === "" || new RegExp(`^(?:${re})$`).test(v);

/** Whether `rule.target` selects `o` (no target: every object). Label/annotation selectors: `k=v`, `k!=v`, `k`, `!k`, comma-separated. */
function selects(rule: IgnoreRule, o: Obj): boolean {
  const t = rule.target as Record<string, string | undefined> | undefined;
  if (!t) return true;
  const [group, version] = o.apiVersion!.includes("/") ? o.apiVersion!.split("/") : ["", o.apiVersion!];
  return full(t.group, group) && full(t.version, version) && full(t.kind, o.kind!) && full(t.name, o.metadata!.name!)
    && full(t.namespace, o.metadata!.namespace ?? "") && matchSelector(t.labelSelector, o.metadata!.labels) && matchSelector(t.annotationSelector, o.metadata!.annotations);
}

function matchSelector(sel: string | undefined, m: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  return sel.split(",").map((s) => s.trim()).filter(Boolean).every((term) => {
    const ne = /^([^!=\s]+)\s*!=\s*(.*)$/.exec(term);
    if (ne) return m?.[ne[1]] !== ne[2].trim();
    const eq = /^([^!=\s]+)\s*==?\s*(.*)$/.exec(term);
    if (eq) return m?.[eq[1]] === eq[2].trim();
    if (term.startsWith("!")) return m?.[term.slice(1)] === undefined;
    return m?.[term] !== undefined;
  });
}

/** Removes the value at a JSON pointer (RFC 6901); false when the pointer is "" (the whole object). */
function removePointer(o: Record<string, unknown>, pointer: string): boolean {
  if (pointer === "") return false;
  const parts = pointer.split("/").slice(1).map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  let cur: unknown = o;
  for (const p of parts.slice(0, -1)) {
    if (cur === null || typeof cur !== "object") return true;
    cur = (cur as Record<string, unknown>)[p];
  }
  const last = parts[parts.length - 1];
  if (Array.isArray(cur)) cur.splice(Number(last), 1);
  else if (cur && typeof cur === "object") delete (cur as Record<string, unknown>)[last];
  return true;
}

/** What the apply compares: no server-managed metadata, no status. */
function comparable(o: Obj): unknown {
  const { status: _s, ...rest } = o;
  const { managedFields: _m, resourceVersion: _r, generation: _g, ...meta } = (o.metadata ?? {}) as Record<string, unknown>;
  return canonical({ ...rest, metadata: meta });
}
const canonical = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(canonical) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;

interface Drift { id: string; change: "created" | "changed"; obj: Obj; mapping: Awaited<ReturnType<RestMapper["mapping"]>> }

const disabledBy = (o: Obj) => [o.metadata?.labels, o.metadata?.annotations].some((m) => m?.["helm.toolkit.fluxcd.io/driftDetection"] === "disabled");

/**
 * Detects (and in mode `enabled` corrects) drift of the release `release` in `storageNamespace`
 * whose objects default to `namespace`. Runs as the controller (ctx.client), not the impersonated account;
 * on a remote cluster (spec.kubeConfig) as the kubeconfig's user, impersonating as helm does.
 */
export async function detectDrift(hr: HelmRelease, loc: { release: string; storageNamespace: string; namespace: string }, h: HelmRun,
  ctx: ReconcileContext<HelmRelease>, deps: HelmDeps): Promise<void> {
  const mode = driftMode(hr);
  const client: KubeClient = h.remote?.client ?? ctx.client;
  const mapper = new RestMapper(client);
  const manifest = await getManifest(h, loc.release, loc.storageNamespace);
  const rules = hr.spec.driftDetection?.ignore ?? [];
  const drifts: Drift[] = [];
  const errors: string[] = [];
  for (const doc of parseAllDocuments(manifest)) {
    const o = doc.toJSON() as Obj | null;
    if (!o || !o.kind || !o.apiVersion || !o.metadata?.name || disabledBy(o)) continue;
    let mapping;
    try {
      mapping = await mapper.mapping(o.apiVersion, o.kind, ctx.signal);
    } catch (e) {
      errors.push(`${o.kind}/${o.metadata.name}: ${(e as Error).message}`);
      continue;
    }
    if (mapping.namespaced) o.metadata.namespace ??= loc.namespace;
    else delete o.metadata.namespace;
    let skip = false;
    for (const r of rules) if (selects(r, o)) for (const p of r.paths ?? []) if (!removePointer(o, p)) skip = true;
    if (skip) continue;
    const id = `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;
    try {
      const key = { namespace: o.metadata.namespace ?? "", name: o.metadata.name };
      const live = await client.get<Obj>(mapping, key, { signal: ctx.signal });
      const dry = await client.apply<Obj>(mapping, o, { fieldManager: FieldManager.Helm, force: true, dryRun: true, signal: ctx.signal });
      if (!live) drifts.push({ id, change: "created", obj: o, mapping });
      else if (JSON.stringify(comparable(live)) !== JSON.stringify(comparable(dry))) drifts.push({ id, change: "changed", obj: o, mapping });
    } catch (e) {
      errors.push(`${id}: ${apiMessage(e)}`);
    }
  }
  const snap = hr.status?.history?.[0];
  const rel = snap ? `${releaseId(snap)}+${snap.chartName}@${snap.chartVersion}` : `${loc.namespace}/${loc.release}`;
  if (!drifts.length) {
    markFalse(hr, CT.Drifted, Reason.NoDriftDetected, `No drift detected for release ${rel}`);
    if (errors.length) ctx.log.error({ errors }, "drift detection could not compare some objects");
    return;
  }
  const summary = drifts.map((d) => `${d.id} ${d.change === "created" ? "removed" : "changed"}`).join("\n");
  const msg = `Cluster state of release ${rel} has drifted from the desired state:\n${summary}`;
  ctx.log.info({ drift: drifts.map((d) => ({ id: d.id, change: d.change })) }, "drift detected");
  markTrue(hr, CT.Drifted, Reason.DriftDetected, msg);
  if (mode !== DriftDetectionMode.Enabled) {
    await deps.events.warning(hr, Reason.DriftDetected, msg);
    return;
  }
  const corrected: string[] = [];
  for (const d of drifts) {
    try {
      await client.apply(d.mapping, d.obj, { fieldManager: FieldManager.Helm, force: true, signal: ctx.signal });
      corrected.push(`${d.id} ${d.change === "created" ? "created" : "patched"}`);
    } catch (e) {
      errors.push(`${d.id}: ${apiMessage(e)}`);
    }
  }
  const failed = errors.length ? `\nFailed:\n${errors.join("\n")}` : "";
  const done = `Cluster state of release ${rel} has been corrected:\n${corrected.join("\n")}${failed}`;
  if (errors.length) {
    await deps.events.warning(hr, Reason.DriftDetected, done);
    return;
  }
  // Corrected: the release matches its manifest again.
  markFalse(hr, CT.Drifted, Reason.NoDriftDetected, done);
  await deps.events.normal(hr, Reason.DriftDetected, done);
}
