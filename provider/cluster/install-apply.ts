/**
 * Applying an installation: CRDs and Namespaces first (and waiting until the CRDs are
 * Established), then everything else, all with server-side apply. Then the controller
 * Deployments are awaited (Available at their current generation).
 */
import { Cluster, ClusterError, mapLimit, type ClusterConnection } from "./client";
import { describe, type KubeManifest } from "../manifests/objects";
import { deadlineAfter, parseDuration, sleep } from "./time";

const first = (o: KubeManifest) => o.kind === "CustomResourceDefinition" || o.kind === "Namespace";

export interface ApplyResult {
  applied: number;
}

/** Objects whose `app.kubernetes.io/managed-by` says another tool installed them. */
export async function foreignInstaller(cluster: Cluster, objects: readonly KubeManifest[]): Promise<string | undefined> {
  const probes = objects.filter((o) => o.kind === "Namespace" || o.kind === "Deployment");
  for (const o of probes) {
    const live = await cluster.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
    const by = live?.metadata.labels?.["app.kubernetes.io/managed-by"];
    if (by && by !== "gitops" && by !== "flux") return `${describe(o)} is managed by ${by}`;
  }
  return undefined;
}

export async function waitCrdsEstablished(cluster: Cluster, names: readonly string[], deadline: number): Promise<void> {
  for (const name of names) {
    for (;;) {
      const crd = await cluster.get<{ status?: { conditions?: { type: string; status: string; message?: string }[] } }>(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", name);
      const c = crd?.status?.conditions?.find((x) => x.type === "Established");
      if (c?.status === "True") break;
      if (Date.now() > deadline) throw new ClusterError(`CustomResourceDefinition ${name} is not Established: ${c?.message ?? "no status yet"}`);
      await sleep(100);
    }
  }
}

/**
 * Waits until none of `objects` is being deleted. Applying to a CRD or Namespace that is still
 * terminating (a destroy just before) succeeds and is then lost when the deletion completes.
 */
export async function waitNotTerminating(cluster: Cluster, objects: readonly KubeManifest[], deadline: number): Promise<void> {
  await mapLimit(objects, 8, async (o) => {
    for (;;) {
      const live = await cluster.get(o.apiVersion, o.kind, o.metadata.name, o.metadata.namespace);
      if (!live?.metadata.deletionTimestamp) return;
      if (Date.now() > deadline) {
        const held = live.metadata.finalizers?.length ? ` (finalizers: ${live.metadata.finalizers.join(", ")})` : "";
        throw new ClusterError(`${describe(o)} is still being deleted${held}; wait for the deletion to finish, then retry`);
      }
      await sleep(200);
    }
  });
}

/** Staged server-side apply of `objects`. */
export async function applyStaged(cluster: Cluster, objects: readonly KubeManifest[], deadline: number): Promise<ApplyResult> {
  const stage1 = objects.filter(first);
  const stage2 = objects.filter((o) => !first(o));
  await waitNotTerminating(cluster, stage1, deadline);
  await mapLimit(stage1, 8, (o) => cluster.apply(o));
  await waitCrdsEstablished(cluster, stage1.filter((o) => o.kind === "CustomResourceDefinition").map((o) => o.metadata.name), deadline);
  await mapLimit(stage2, 8, (o) => cluster.apply(o));
  return { applied: objects.length };
}

interface DeploymentStatus {
  metadata: { generation?: number };
  spec?: { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  status?: {
    observedGeneration?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Waits until each Deployment is Available with every replica updated; the error says which one is not and why. */
export async function waitDeployments(cluster: Cluster, deployments: readonly KubeManifest[], deadline: number): Promise<void> {
  await Promise.all(
    deployments.map(async (d) => {
      let polls = 0;
      for (;;) {
        const live = await cluster.get<DeploymentStatus>(d.apiVersion, d.kind, d.metadata.name, d.metadata.namespace);
        const st = live?.status;
        const want = live?.spec?.replicas ?? 1;
        const avail = st?.conditions?.find((c) => c.type === "Available");
        const progressing = st?.conditions?.find((c) => c.type === "Progressing");
        if (live && st && (st.observedGeneration ?? 0) >= (live.metadata.generation ?? 0) && (st.updatedReplicas ?? 0) >= want && (st.availableReplicas ?? 0) >= want && avail?.status === "True") return;
        // the pods' own reason, every 2 s: an image that cannot be pulled fails now, not at the timeout
        const stuck = live && polls++ % 10 === 9 ? await podsCannotStart(cluster, live, d.metadata.namespace) : undefined;
        if (stuck) throw new ClusterError(`${describe(d)} cannot start: ${stuck}`);
        if (progressing?.reason === "ProgressDeadlineExceeded") {
          throw new ClusterError(`${describe(d)} failed to roll out: ${progressing.message ?? ""}`);
        }
        if (Date.now() > deadline) {
          throw new ClusterError(`${describe(d)} is not Available: ${avail?.message ?? progressing?.message ?? (live ? "no status yet" : "not found")}`);
        }
        await sleep(200);
      }
    }),
  );
}

interface PodStatus {
  metadata: { name: string };
  status?: { containerStatuses?: { name: string; state?: { waiting?: { reason?: string; message?: string } } }[] };
}

/** Reasons a waiting container will not get past by waiting: the image cannot be pulled or the pod spec cannot be run. */
const HOPELESS = new Set(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "CreateContainerConfigError"]);

/** The Deployment's pod that cannot start, with the kubelet's own reason and message (e.g. ImagePullBackOff: ... not found). */
async function podsCannotStart(cluster: Cluster, live: DeploymentStatus, namespace: string | undefined): Promise<string | undefined> {
  const labels = live.spec?.selector?.matchLabels;
  if (!labels || Object.keys(labels).length === 0) return undefined;
  const pods = await cluster.list<PodStatus>("v1", "Pod", { namespace, labelSelector: Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(",") }).catch(() => []);
  for (const p of pods) {
    for (const c of p.status?.containerStatuses ?? []) {
      const w = c.state?.waiting;
      if (w?.reason && HOPELESS.has(w.reason)) return `pod ${p.metadata.name} container ${c.name}: ${w.reason}: ${w.message ?? ""}`.trim();
    }
  }
  return undefined;
}

/** `gitops install` without --export: apply and wait. */
export async function installToCluster(
  objects: readonly KubeManifest[],
  opts: ClusterConnection & { timeout: string; log?: (m: string) => void; force?: boolean },
): Promise<ApplyResult> {
  const cluster = new Cluster(opts);
  await cluster.ping();
  if (!opts.force) {
    const foreign = await foreignInstaller(cluster, objects);
    if (foreign) throw new ClusterError(`${foreign}; refusing to take it over (use force to override)`);
  }
  const deadline = deadlineAfter(parseDuration(opts.timeout, "timeout"));
  opts.log?.(`applying ${objects.length} objects to ${cluster.server}`);
  const r = await applyStaged(cluster, objects, deadline);
  const deployments = objects.filter((o) => o.kind === "Deployment");
  opts.log?.(`waiting for ${deployments.map((d) => d.metadata.name).join(", ")}`);
  await waitDeployments(cluster, deployments, deadline);
  return r;
}
