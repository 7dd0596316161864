/**
 * Uninstalling in Flux's order: controllers first (so no finalizer logic runs), then the
 * finalizers of every Flux object (Kustomizations and HelmReleases suspended as well), then the
 * CRDs (which removes the objects), then the namespace.
 * Every step runs even when an earlier one failed, and a namespace or cluster that is already
 * gone is success: destroy must never get stuck on what is no longer there.
 */
import { Cluster, ClusterError, mapLimit } from "./client";
import { sleep } from "./time";
import type { FluxObject } from "./wait";

export interface UninstallOptions {
  namespace: string;
  keepNamespace?: boolean;
  /** First delete the workloads the Kustomizations/HelmReleases applied, by deleting those (except the root sync). */
  cascade?: boolean;
  deadline: number;
  log?: (m: string) => void;
}

const partOf = "app.kubernetes.io/part-of=flux";

async function step(errors: string[], what: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    errors.push(`${what}: ${(e as Error).message}`);
  }
}

async function waitGone(cluster: Cluster, items: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }[], deadline: number): Promise<string[]> {
  const left: string[] = [];
  for (const it of items) {
    for (;;) {
      const live = await cluster.get(it.apiVersion, it.kind, it.metadata.name, it.metadata.namespace);
      if (!live) break;
      if (Date.now() > deadline) {
        left.push(`${it.kind}/${it.metadata.namespace ?? ""}/${it.metadata.name}`);
        break;
      }
      await sleep(200);
    }
  }
  return left;
}

/** Kinds of the Flux CRDs installed on the cluster (those labelled part-of=flux). */
async function fluxKinds(cluster: Cluster): Promise<{ apiVersion: string; kind: string; crd: string }[]> {
  const crds = await cluster.list<{ metadata: { name: string }; spec: { group: string; names: { kind: string }; versions: { name: string; storage: boolean }[] } }>(
    "apiextensions.k8s.io/v1", "CustomResourceDefinition", { labelSelector: partOf });
  return crds.map((c) => ({
    apiVersion: `${c.spec.group}/${(c.spec.versions.find((v) => v.storage) ?? c.spec.versions[0])!.name}`,
    kind: c.spec.names.kind,
    crd: c.metadata.name,
  }));
}

async function cascadeDelete(cluster: Cluster, o: UninstallOptions): Promise<void> {
  const appliers = [
    { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization" },
    { apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease" },
  ];
  const victims: FluxObject[] = [];
  for (const a of appliers) {
    for (const it of await cluster.list<FluxObject>(a.apiVersion, a.kind)) {
      const isRoot = it.kind === "Kustomization" && it.metadata.name === o.namespace && it.metadata.namespace === o.namespace;
      if (!isRoot) victims.push({ ...it, apiVersion: a.apiVersion, kind: a.kind });
    }
  }
  o.log?.(`cascade: deleting ${victims.length} Kustomizations/HelmReleases so their controllers remove what they applied`);
  await mapLimit(victims, 8, (v) => cluster.delete(v.apiVersion, v.kind, v.metadata.name, v.metadata.namespace).then(() => undefined));
  const left = await waitGone(cluster, victims, o.deadline);
  if (left.length > 0) throw new ClusterError(`still there after the deadline (their controllers did not finish garbage collection): ${left.join(", ")}`);
  // What the root sync applied besides the installation itself.
  const root = await cluster.get<{ status?: { inventory?: { entries?: { id: string; v: string }[] } } }>(
    "kustomize.toolkit.fluxcd.io/v1", "Kustomization", o.namespace, o.namespace);
  for (const e of root?.status?.inventory?.entries ?? []) {
    const [ns, name, group, kind] = e.id.split("_");
    if (!name || !kind || ns === o.namespace || kind === "CustomResourceDefinition" || kind === "Namespace" && name === o.namespace) continue;
    const live = await cluster.get<{ metadata: { labels?: Record<string, string> } }>(group ? `${group}/${e.v}` : e.v, kind, name, ns || undefined);
    if (live?.metadata.labels?.["app.kubernetes.io/part-of"] === "flux") continue;
    await cluster.delete(group ? `${group}/${e.v}` : e.v, kind, name, ns || undefined);
  }
}

/** Kinds whose finalizer deletes what they applied (prune, Helm uninstall) unless suspended. */
const APPLIERS = new Set(["Kustomization", "HelmRelease"]);

/**
 * Removes the finalizers of every Flux object, and suspends every Kustomization and HelmRelease
 * in the same patch: a controller still running (a pod in its grace period, or one run outside
 * the cluster) re-adds its finalizer at the next reconcile, and then deleting the CRDs would
 * make it prune or uninstall everything. Suspended, its finalizer leaves the workloads alone,
 * as Flux's does.
 */
async function releaseObjects(cluster: Cluster, kinds: { apiVersion: string; kind: string }[], which: { namespace?: string; labelSelector?: string } = {}): Promise<void> {
  for (const k of kinds) {
    const suspend = APPLIERS.has(k.kind);
    const items = await cluster.list<FluxObject & { metadata: { finalizers?: string[] } }>(k.apiVersion, k.kind, which);
    await mapLimit(items, 8, async (it) => {
      const held = (it.metadata.finalizers ?? []).length > 0;
      const running = suspend && !it.spec?.suspend;
      if (!held && !running) return;
      const patch: Record<string, unknown> = { metadata: { finalizers: null } };
      if (running && !it.metadata.deletionTimestamp) patch.spec = { suspend: true };
      await cluster.mergePatch(k.apiVersion, k.kind, it.metadata.name, it.metadata.namespace, patch);
    });
  }
}

/** The finalizers step on its own (everywhere, as uninstall does, or in a namespace / by label). */
export async function releaseFluxObjects(cluster: Cluster, which: { namespace?: string; labelSelector?: string } = {}): Promise<void> {
  await releaseObjects(cluster, await fluxKinds(cluster), which);
}

/** Returns the problems met; an empty list is a clean uninstall. */
export async function uninstall(cluster: Cluster, o: UninstallOptions): Promise<string[]> {
  const errors: string[] = [];
  const ns = await cluster.get("v1", "Namespace", o.namespace);
  if (o.cascade && ns) await step(errors, "cascade", () => cascadeDelete(cluster, o));

  await step(errors, "controllers", async () => {
    const namespaced = [
      ["apps/v1", "Deployment"],
      ["v1", "Service"],
      ["networking.k8s.io/v1", "NetworkPolicy"],
      ["v1", "ServiceAccount"],
    ];
    if (ns) {
      for (const [apiVersion, kind] of namespaced) {
        for (const it of await cluster.list<FluxObject>(apiVersion!, kind!, { namespace: o.namespace, labelSelector: partOf })) {
          await cluster.delete(apiVersion!, kind!, it.metadata.name, o.namespace);
        }
      }
    }
    const sel = `${partOf},app.kubernetes.io/instance=${o.namespace}`;
    for (const kind of ["ClusterRole", "ClusterRoleBinding"]) {
      for (const it of await cluster.list<FluxObject>("rbac.authorization.k8s.io/v1", kind, { labelSelector: sel })) {
        await cluster.delete("rbac.authorization.k8s.io/v1", kind, it.metadata.name);
      }
    }
  });

  const kinds = await fluxKinds(cluster).catch((e) => {
    errors.push(`list CRDs: ${(e as Error).message}`);
    return [];
  });
  await step(errors, "finalizers", () => releaseObjects(cluster, kinds));
  await step(errors, "CRDs", async () => {
    for (const k of kinds) await cluster.delete("apiextensions.k8s.io/v1", "CustomResourceDefinition", k.crd);
    // Wait until they are gone, so that an install right after does not meet terminating CRDs;
    // a finalizer a still-running controller put back in the meantime would hold them up.
    for (;;) {
      const left = (await fluxKinds(cluster)).filter((k) => kinds.some((x) => x.crd === k.crd));
      if (left.length === 0) return;
      if (Date.now() > o.deadline) throw new ClusterError(`still terminating after the deadline: ${left.map((k) => k.crd).join(", ")}`);
      await releaseObjects(cluster, left);
      await sleep(200);
    }
  });
  if (!o.keepNamespace && ns) {
    await step(errors, "namespace", async () => {
      await cluster.delete("v1", "Namespace", o.namespace);
    });
  }
  return errors;
}
