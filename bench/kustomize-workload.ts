// The Kustomization benchmark workload: one git repository with `count` folders of `per`
// ConfigMaps each, served over smart HTTP, and one Kustomization per folder (prune, own
// targetNamespace), all created before the controller under test starts.
import { KubeClient } from "../controllers/runtime/kube";
import { mapLimit } from "../controllers/runtime/ssa";
import { GitServers, startGitServers } from "../test/support/git-server";

/** Flux's sharding label (the sharding guide): a shard's controllers watch `<label>=<key>`, the main ones `!<label>`. */
export const ShardLabel = "sharding.fluxcd.io/key";
export const shardKey = (k: number): string => `shard${k}`;

export const ns = { namespaces: { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false } };
export const kustomizationsRes = { group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations", kind: "Kustomization" };
export const gitRepositoriesRes = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };

export function configMapYaml(name: string, i: number, j: number): string {
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  labels:\n    app: app-${i}\ndata:\n  index: "${j}"\n  folder: "${i}"\n  payload: "${"x".repeat(64)}"\n`;
}

export function workloadFiles(count: number, per: number): Record<string, string> {
  const files: Record<string, string> = { "README.md": "# benchmark workload\n" };
  for (let i = 0; i < count; i++) for (let j = 0; j < per; j++) files[`apps/app-${i}/cm-${j}.yaml`] = configMapYaml(`cm-${j}`, i, j);
  return files;
}

export async function startRepo(count: number, per: number): Promise<GitServers> {
  return startGitServers({ files: workloadFiles(count, per), http: {} });
}

export async function ensureNamespace(client: KubeClient, name: string): Promise<void> {
  await client.apply(ns.namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, { fieldManager: "bench", force: true });
}

/** The GitRepository in namespace `bench`, pointing at the HTTP URL. */
export async function createGitRepository(client: KubeClient, url: string, interval = "60m"): Promise<void> {
  await ensureNamespace(client, "bench");
  await client.apply(gitRepositoriesRes, {
    apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: "bench" },
    spec: { interval, url, ref: { branch: "main" }, timeout: "120s" },
  } as never, { fieldManager: "bench", force: true });
}

/**
 * Namespaces `<side>-<i>` and the Kustomizations `app-<i>` in namespace `<side>`; with
 * `shards` > 1, Kustomization i carries `sharding.fluxcd.io/key: shard<i mod shards>`.
 */
export async function createKustomizations(client: KubeClient, side: string, count: number, shards = 1): Promise<void> {
  await ensureNamespace(client, side);
  const idx = [...Array(count).keys()];
  await mapLimit(idx, 16, (i) => ensureNamespace(client, `${side}-${i}`));
  await mapLimit(idx, 16, (i) => client.apply(kustomizationsRes, {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization",
    metadata: { name: `app-${i}`, namespace: side, ...(shards > 1 ? { labels: { [ShardLabel]: shardKey(i % shards) } } : {}) },
    spec: {
      interval: "60m", prune: true, path: `./apps/app-${i}`, targetNamespace: `${side}-${i}`, timeout: "5m",
      sourceRef: { kind: "GitRepository", name: "repo", namespace: "bench" },
    },
  } as never, { fieldManager: "bench", force: true }));
}

/** Deletes the side's namespaces (objects go with them) without waiting. */
export async function deleteSide(client: KubeClient, side: string, count: number): Promise<void> {
  await mapLimit([...Array(count).keys()], 16, (i) => client.delete(ns.namespaces, { namespace: "", name: `${side}-${i}` }));
  await client.delete(ns.namespaces, { namespace: "", name: side });
}
