/**
 * Waiting for Flux objects: Ready=True at the current generation (and, when asked, at a given
 * revision), failing early when the controller says Stalled, and otherwise failing at the
 * deadline with the controller's own Ready message, so the error says what to fix.
 */
import { Cluster, ClusterError } from "./client";
import { sleep } from "./time";

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export interface FluxObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec?: { suspend?: boolean; sourceRef?: { kind: string; name: string; namespace?: string; apiVersion?: string }; chartRef?: { kind: string; name: string; namespace?: string } };
  status?: {
    observedGeneration?: number;
    conditions?: Condition[];
    artifact?: { revision?: string };
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    history?: { chartVersion?: string; status?: string }[];
    [k: string]: unknown;
  };
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export const ReconcileRequestedAt = "reconcile.fluxcd.io/requestedAt";

export function readyCondition(o: FluxObject | undefined): Condition | undefined {
  return o?.status?.conditions?.find((c) => c.type === "Ready");
}

/**
 * The revision an object has reached: the artifact's for sources, the last applied one for
 * Kustomizations, and for HelmReleases (whose v2 status has no lastAppliedRevision) the chart
 * version of the newest deployed release in status.history.
 */
export function revisionOf(o: FluxObject | undefined): string | undefined {
  const s = o?.status;
  return s?.artifact?.revision ?? s?.lastAppliedRevision ?? (o?.kind === "HelmRelease" ? s?.history?.find((h) => h.status === "deployed")?.chartVersion : undefined);
}

export function refName(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? r.namespace + "/" : ""}${r.name}`;
}

function conditionText(c: Condition | undefined): string {
  if (!c) return "no Ready condition yet (is the controller running?)";
  return `Ready=${c.status}${c.reason ? ` ${c.reason}` : ""}${c.message ? `: ${c.message}` : ""}`;
}

export type ReadyState = { done: true; object: FluxObject } | { done: false; why: string; terminal?: boolean; object?: FluxObject };

/** Whether `o` is Ready (at `revision`, when given), or why not. */
export function readiness(o: FluxObject | undefined, revision?: string): ReadyState {
  if (!o) return { done: false, why: "not found" };
  if (o.spec?.suspend) return { done: false, why: "is suspended (spec.suspend: true); resume it", terminal: true, object: o };
  const ready = readyCondition(o);
  const stalled = o.status?.conditions?.find((c) => c.type === "Stalled" && c.status === "True");
  const gen = o.metadata.generation ?? 0;
  const observed = o.status?.observedGeneration ?? -1;
  if (stalled && (observed >= gen || (stalled.observedGeneration ?? -1) >= gen)) return { done: false, why: `Stalled ${stalled.reason ?? ""}: ${stalled.message ?? ""}`, terminal: true, object: o };
  // Flux moves status.observedGeneration only on success; a failure stamps the condition's own.
  if (observed < gen && (ready?.observedGeneration ?? -1) < gen) {
    return { done: false, why: `the controller has not observed generation ${gen} yet (${conditionText(ready)})`, object: o };
  }
  if (ready?.status !== "True") return { done: false, why: conditionText(ready), object: o };
  if (revision !== undefined && revisionOf(o) !== revision) {
    return { done: false, why: `at revision ${revisionOf(o) ?? "none"}, waiting for ${revision}`, object: o };
  }
  return { done: true, object: o };
}

/** Asks the controller to reconcile now (the `flux reconcile` annotation). */
export async function requestReconcile(cluster: Cluster, r: ObjectRef): Promise<void> {
  await cluster.mergePatch(r.apiVersion, r.kind, r.name, r.namespace, {
    metadata: { annotations: { [ReconcileRequestedAt]: new Date().toISOString() } },
  });
}

export interface WaitOptions {
  deadline: number;
  revision?: string;
  /** Re-request a reconcile this often while the revision is not reached (ms); 0 disables. */
  nudgeEveryMs?: number;
  intervalMs?: number;
}

export class NotReadyError extends ClusterError {
  constructor(message: string, readonly object?: FluxObject) {
    super(message);
    this.name = "NotReadyError";
  }
}

/** The source a Kustomization or HelmRelease reads, for a better message when it is the one not ready. */
async function sourceHint(cluster: Cluster, o: FluxObject | undefined): Promise<string> {
  const ref = o?.spec?.sourceRef ?? o?.spec?.chartRef;
  if (!o || !ref) return "";
  const sourceKinds = ["HelmChart", "GitRepository", "OCIRepository", "Bucket", "HelmRepository", "ExternalArtifact"];
  const explicit = (ref as { apiVersion?: string }).apiVersion;
  const apiVersion: string | undefined = explicit ?? (sourceKinds.includes(ref.kind) ? "source.toolkit.fluxcd.io/v1" : undefined);
  if (!apiVersion) return "";
  const src = await cluster.get<FluxObject>(apiVersion, ref.kind, ref.name, ref.namespace ?? o.metadata.namespace).catch(() => undefined);
  const r = readiness(src);
  return r.done ? "" : `; its source ${ref.kind} ${ref.namespace ?? o.metadata.namespace}/${ref.name}: ${r.why}`;
}

/** Polls until `ref` is Ready (at opts.revision); throws NotReadyError with the controller's message. */
export async function waitReady(cluster: Cluster, ref: ObjectRef, opts: WaitOptions): Promise<FluxObject> {
  const started = Date.now();
  let lastNudge = 0;
  let last: ReadyState = { done: false, why: "not checked" };
  for (;;) {
    const o = await cluster.get<FluxObject>(ref.apiVersion, ref.kind, ref.name, ref.namespace);
    last = readiness(o, opts.revision);
    if (last.done) return last.object;
    if (last.terminal) throw new NotReadyError(`${refName(ref)} ${last.why}`, last.object);
    const nudge = opts.nudgeEveryMs ?? 0;
    if (o && nudge > 0 && opts.revision !== undefined && revisionOf(o) !== opts.revision && Date.now() - lastNudge > nudge) {
      lastNudge = Date.now();
      await requestReconcile(cluster, ref).catch(() => undefined);
    }
    if (Date.now() > opts.deadline) {
      const secs = Math.round((Date.now() - started) / 1000);
      throw new NotReadyError(`${refName(ref)} is not Ready${opts.revision ? ` at ${opts.revision}` : ""} after ${secs}s: ${last.why}${await sourceHint(cluster, o)}`, o);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}
