// Status of a HelmRelease as Flux writes it: status.history snapshots of stored releases,
// the Released and Ready conditions with Flux's messages, and progress writes while helm
// runs (so watchers see Reconciling during a long --wait).
import { createHash } from "node:crypto";
import type { HelmRelease, ReleaseSnapshot } from "../api/helm/v2/helm-release";
import { FieldManager } from "../api/meta";
import { metaTime } from "../runtime/conditions";
import { ReconcileContext } from "../runtime/controller";
import { deepClone } from "../runtime/json-merge";
import { patchStatus } from "../runtime/status-patch";
import type { StoredRelease } from "./helm-cli";
import { DefaultMaxHistory } from "./names";
import { canonicalJson, configDigest } from "./values";

const time = (s?: string): string => metaTime(s ? new Date(s) : new Date());

/** A status.history entry for a stored release revision. */
export function snapshotOf(r: StoredRelease): ReleaseSnapshot {
  const m = r.chart.metadata;
  const snap: ReleaseSnapshot = {
    apiVersion: "v2",
    digest: `sha256:${createHash("sha256").update(canonicalJson({ ...r, info: { ...r.info } })).digest("hex")}`,
    name: r.name,
    namespace: r.namespace,
    version: r.version,
    status: r.info.status,
    chartName: m.name,
    chartVersion: m.version,
    configDigest: configDigest(r.config ?? {}),
    firstDeployed: time(r.info.first_deployed),
    lastDeployed: time(r.info.last_deployed),
  };
  if (m.appVersion) snap.appVersion = m.appVersion;
  if (r.info.deleted) snap.deleted = time(r.info.deleted);
  return snap;
}

/** Puts the snapshot first (replacing the same revision), newest first, at most maxHistory. */
export function recordSnapshot(hr: HelmRelease, snap: ReleaseSnapshot): void {
  const st = (hr.status ??= {});
  const same = (h: ReleaseSnapshot) => h.name === snap.name && h.namespace === snap.namespace && h.version === snap.version;
  // Test results belong to the revision: keep them until tests run again.
  const prev = st.history?.find(same);
  if (prev?.testHooks && !snap.testHooks) snap.testHooks = prev.testHooks;
  const rest = (st.history ?? []).filter((h) => !same(h));
  const max = hr.spec.maxHistory && hr.spec.maxHistory > 0 ? Math.min(hr.spec.maxHistory, DefaultMaxHistory) : DefaultMaxHistory;
  // Helm supersedes the previous deployed revision when a newer one is released.
  for (const h of rest) if (h.version < snap.version && h.status === "deployed") h.status = "superseded";
  st.history = [snap, ...rest.filter((h) => h.name === snap.name && h.namespace === snap.namespace)].slice(0, max);
}

/** `<namespace>/<name>.v<version>` as Flux prints a release. */
export const releaseId = (r: { namespace: string; name: string; version: number }): string => `${r.namespace}/${r.name}.v${r.version}`;

/**
 * Status writes in the middle of a reconcile. `flush` writes the final state when a progress
 * write happened, because the closing patch of reconcileObject diffs against the first read.
 */
export class ProgressWriter {
  #written: HelmRelease;
  #dirty = false;
  constructor(obj: HelmRelease, private readonly ctx: ReconcileContext<HelmRelease>) { this.#written = deepClone(obj); }

  async write(obj: HelmRelease): Promise<void> {
    await patchStatus(this.ctx.client, this.ctx.kind, this.#written as never, obj as never, { fieldManager: FieldManager.Helm, signal: this.ctx.signal });
    this.#written = deepClone(obj);
    this.#dirty = true;
  }

  async flush(obj: HelmRelease): Promise<void> {
    if (this.#dirty) await this.write(obj);
  }
}
