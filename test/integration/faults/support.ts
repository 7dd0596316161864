// Shared pieces of the fault suite: a workload of N Kustomizations (one directory of ConfigMaps
// each, in one git repository), the checks that every one is Ready at a revision with an exact
// inventory (each applied object listed, nothing listed or labelled that the revision lacks),
// and the figures each test prints for docs/reliability.md.
import { expect } from "chai";
import type { Kustomization } from "../../../controllers/api/kustomize/v1/kustomization";
import type { KubeClient } from "../../../controllers/runtime/kube";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { configMap, core, kustomizations, readyCondition } from "../kustomize/support";

/** `GITOPS_FAULTS_SCALE`: unset = the CI scale, `full` = issue 21's 1,000 Kustomizations × 20 kills, or `<kustomizations>x<kills>`. */
export function faultScale(): { kustomizations: number; kills: number } {
  const v = process.env.GITOPS_FAULTS_SCALE;
  if (!v) return { kustomizations: 100, kills: 5 };
  if (v === "full") return { kustomizations: 1000, kills: 20 };
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m) throw new Error(`GITOPS_FAULTS_SCALE must be 'full' or '<kustomizations>x<kills>', got '${v}'`);
  return { kustomizations: Number(m[1]), kills: Number(m[2]) };
}

/** The objects directory `apps/k-<i>` holds at revision `rev` (1: a b c; 2: a changed, c removed, d added). */
export function workloadNames(i: number, rev: 1 | 2): string[] {
  return rev === 1 ? [`c${i}-a`, `c${i}-b`, `c${i}-c`] : [`c${i}-a`, `c${i}-b`, `c${i}-d`];
}

export function workloadFiles(n: number, rev: 1 | 2): Record<string, string | null> {
  const files: Record<string, string | null> = {};
  for (let i = 0; i < n; i++) {
    for (const name of workloadNames(i, rev)) files[`apps/k-${i}/${name}.yaml`] = configMap(name, { rev: name.endsWith("-a") ? String(rev) : "1" });
    if (rev === 2) files[`apps/k-${i}/c${i}-c.yaml`] = null;
  }
  return files;
}

export const configMapId = (ns: string, name: string) => `${ns}_${name}__ConfigMap`;

/** Ready=True at `sha` for every one of `n` Kustomizations k-0..k-<n-1>; returns how many are not yet. */
export async function notReady(client: KubeClient, ns: string, n: number, sha: string): Promise<number> {
  const list = await client.list<Kustomization>(kustomizations, { namespace: ns });
  const ready = list.items.filter((k) => {
    const r = readyCondition(k);
    return r?.status === "True" && r.observedGeneration === k.metadata.generation && k.status?.lastAppliedRevision?.endsWith(sha);
  });
  return n - ready.length;
}

/**
 * Every Kustomization's inventory is exactly its directory at revision `rev`, the cluster holds
 * exactly those ConfigMaps with its labels (no orphan left by a killed apply, nothing pruned that
 * should stay), and each holds that revision's data. Returns the number of ConfigMaps checked.
 */
export async function expectExactInventories(client: KubeClient, ns: string, n: number, rev: 1 | 2): Promise<number> {
  const ks = new Map((await client.list<Kustomization>(kustomizations, { namespace: ns })).items.map((k) => [k.metadata.name, k]));
  const cms = (await client.list<KubeObject & { data?: Record<string, string> }>(core.configMaps, { namespace: ns })).items;
  const byOwner = new Map<string, Map<string, Record<string, string> | undefined>>();
  for (const cm of cms) {
    const owner = cm.metadata?.labels?.["kustomize.toolkit.fluxcd.io/name"];
    if (!owner) continue;
    if (!byOwner.has(owner)) byOwner.set(owner, new Map());
    byOwner.get(owner)!.set(cm.metadata!.name!, cm.data);
  }
  const problems: string[] = [];
  let checked = 0;
  for (let i = 0; i < n; i++) {
    const name = `k-${i}`;
    const want = workloadNames(i, rev);
    const inv = (ks.get(name)?.status?.inventory?.entries ?? []).map((e) => e.id).sort();
    const wantIds = want.map((c) => configMapId(ns, c)).sort();
    if (JSON.stringify(inv) !== JSON.stringify(wantIds)) problems.push(`${name}: inventory ${JSON.stringify(inv)}, want ${JSON.stringify(wantIds)}`);
    const live = byOwner.get(name) ?? new Map();
    const liveNames = [...live.keys()].sort();
    if (JSON.stringify(liveNames) !== JSON.stringify([...want].sort())) problems.push(`${name}: ConfigMaps ${JSON.stringify(liveNames)}, want ${JSON.stringify(want)}`);
    for (const c of want) {
      const wantRev = c.endsWith("-a") ? String(rev) : "1";
      if (live.get(c)?.rev !== wantRev) problems.push(`${name}: ${c} has rev=${live.get(c)?.rev}, want ${wantRev}`);
      checked++;
    }
  }
  expect(problems.slice(0, 20), `${problems.length} problems`).to.deep.equal([]);
  return checked;
}

/** One line for docs/reliability.md's table, printed so a run's figures can be copied. */
export function report(fault: string, figures: Record<string, unknown>): void {
  console.log(`[faults] ${fault}: ${Object.entries(figures).map(([k, v]) => `${k}=${typeof v === "object" ? JSON.stringify(v) : v}`).join(" ")}`);
}

/** A small deterministic PRNG, so a failing run's kill points can be replayed from its seed. */
export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
