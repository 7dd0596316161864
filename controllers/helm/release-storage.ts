// Helm's release records read straight from the cluster: helm's default storage driver keeps
// each revision in a Secret `sh.helm.release.v1.<name>.v<version>` (labels owner=helm,
// name=<name>, version=<version>), its `release` key holding base64(gzip(JSON)) of the release.
// One list request replaces the three helm processes `status`, `get metadata` and `get values`
// cost on every reconcile. The client is the identity helm runs as (impersonating
// spec.serviceAccountName, on the remote cluster with spec.kubeConfig), so RBAC is the same.
import * as zlib from "node:zlib";
import type { KubeClient } from "../runtime/kube";
import type { KubeObject } from "../runtime/keys";
import type { StoredRelease } from "./helm-cli";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b, 0x08]);

type ReleaseSecret = KubeObject & { type?: string; data?: Record<string, string> };

/** Helm's `release` value of a storage Secret (already base64-decoded once by the API's data encoding). */
export function decodeRelease(secretData: string): StoredRelease {
  const inner = Buffer.from(Buffer.from(secretData, "base64").toString("utf8"), "base64");
  const json = inner.subarray(0, 3).equals(GZIP_MAGIC) ? zlib.gunzipSync(inner) : inner;
  return JSON.parse(json.toString("utf8")) as StoredRelease;
}

/**
 * The latest stored revision of `release` in the storage `namespace`, as `helm status` reports it
 * (the highest version whatever its state); undefined when helm has none.
 */
export async function latestStoredRelease(client: KubeClient, release: string, namespace: string, signal?: AbortSignal): Promise<StoredRelease | undefined> {
  const list = await client.list<ReleaseSecret>(secrets, { namespace, labelSelector: `owner=helm,name=${release}`, signal });
  let latest: ReleaseSecret | undefined;
  let latestVersion = -1;
  for (const s of list.items) {
    if (s.type !== "helm.sh/release.v1" || !s.data?.release) continue;
    const v = Number(s.metadata?.labels?.version);
    if (Number.isInteger(v) && v > latestVersion) { latest = s; latestVersion = v; }
  }
  if (!latest) return undefined;
  const r = decodeRelease(latest.data!.release);
  // what `helm status -o json` leaves out or normalises: the chart's files, and empty values
  return {
    name: r.name, namespace: r.namespace, version: r.version, info: r.info,
    chart: { metadata: { name: r.chart.metadata.name, version: String(r.chart.metadata.version), appVersion: r.chart.metadata.appVersion || undefined } },
    config: r.config ?? {}, manifest: r.manifest, hooks: r.hooks,
  };
}

/** Helm's states of a release whose action is still running (helm refuses any other action meanwhile). */
export const isPendingStatus = (s: string | undefined): boolean => s === "pending-install" || s === "pending-upgrade" || s === "pending-rollback";

/** The inverse of decodeRelease: the `data.release` value of a storage Secret for `release` JSON. */
export function encodeRelease(release: unknown): string {
  const inner = zlib.gzipSync(Buffer.from(JSON.stringify(release), "utf8")).toString("base64");
  return Buffer.from(inner, "utf8").toString("base64");
}

/**
 * Marks revision `version` of `release` failed in its storage Secret (info.status and the
 * `status` label, as helm writes them), with `description`. Guarded by the Secret's
 * resourceVersion: a helm process that is in fact alive and writes it first makes this fail
 * with a conflict instead of being overwritten. Returns false when the revision is no longer
 * in `from` state (someone else moved it on).
 */
export async function markStoredReleaseFailed(client: KubeClient, release: string, namespace: string, version: number, from: string,
  description: string, signal?: AbortSignal): Promise<boolean> {
  const name = `sh.helm.release.v1.${release}.v${version}`;
  const s = await client.get<ReleaseSecret>(secrets, { namespace, name }, { signal });
  if (!s?.data?.release) return false;
  const r = decodeRelease(s.data.release) as unknown as { info: Record<string, unknown> };
  if (r.info.status !== from) return false;
  r.info = { ...r.info, status: "failed", description };
  const labels = { ...(s.metadata?.labels ?? {}), status: "failed", modifiedAt: String(Math.floor(Date.now() / 1000)) };
  await client.replace(secrets, { ...s, metadata: { ...s.metadata, labels }, data: { ...s.data, release: encodeRelease(r) } }, { signal });
  return true;
}
