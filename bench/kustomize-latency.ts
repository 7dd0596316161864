// Commit-to-applied latency of one Kustomization: commit a new ConfigMap value, ask for a
// GitRepository reconcile (as `flux reconcile source git` does; intervals are 1m), and time
// until the new value is in the cluster (seen by a watch). Our source-controller feeds both
// our kustomize-controller and, for comparison, the upstream one.
//   node dist/bench/kustomize-latency.js [--runs 30] [--sides ours,peer] [--tmpdir /dev/shm]
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import * as devCluster from "../cli/dev-cluster";
import { freePort } from "../cli/ports";
import { allCrds } from "../controllers/api/registry";
import { KubeClient } from "../controllers/runtime/kube";
import { Watcher } from "../controllers/runtime/watch";
import { startGitServers } from "../test/support/git-server";
import { ClientLimits, Proc, startOurs, startPeer, stop } from "./kustomize-procs";
import { createGitRepository, ensureNamespace, gitRepositoriesRes, kustomizationsRes } from "./kustomize-workload";

const arg = (n: string, d: string) => { const i = process.argv.indexOf(`--${n}`); return i >= 0 ? process.argv[i + 1] : d; };
const runs = Number(arg("runs", "30"));
const sides = arg("sides", "ours,peer").split(",");
const tmpdir = arg("tmpdir", "/dev/shm");
const limits: ClientLimits = { concurrent: 4, concurrentSsa: 4, qps: 50, burst: 300 };
const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
const cm = (v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: latency\ndata:\n  v: "${v}"\n`;
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-latency-"));
  const cluster = await devCluster.up({ dir: path.join(work, "cluster"), log: () => undefined });
  const procs: Proc[] = [];
  const results: Record<string, unknown> = { runs, tmpdir, date: new Date().toISOString() };
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const client = KubeClient.fromKubeConfig(kc, { qps: 0 });
    const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };
    for (const crd of allCrds()) await client.apply(crdRes, crd as never, { fieldManager: "bench", force: true });
    await new Promise((r) => setTimeout(r, 2000));
    const git = await startGitServers({ files: { "app/cm.yaml": cm(0) }, http: {} });
    procs.push(startOurs("source", cluster.kubeconfig, limits, tmpdir, work, ["--storage-path", path.join(work, "storage"), "--storage-addr", `127.0.0.1:${await freePort()}`]));
    await createGitRepository(client, git.urls.http!, "1m");
    let value = 0;
    for (const side of sides) {
      const ns = `lat-${side}`;
      await ensureNamespace(client, ns);
      await client.apply(kustomizationsRes, {
        apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: `app-${side}`, namespace: "bench" },
        spec: { interval: "1m", prune: true, path: "./app", targetNamespace: ns, sourceRef: { kind: "GitRepository", name: "repo" } },
      } as never, { fieldManager: "bench", force: true });
      const p = side === "ours" ? startOurs("kustomize", cluster.kubeconfig, limits, tmpdir, work) : startPeer(cluster.kubeconfig, limits, tmpdir, work);
      procs.push(p);
      let want = -1;
      let seen: (() => void) | undefined;
      const watcher = new Watcher<{ metadata?: object; data?: Record<string, string> }>(client, {
        resource: configMaps, namespace: ns,
        onEvent: (ev) => { if (ev.object.data?.v === String(want)) seen?.(); },
      });
      watcher.start();
      const latencies: number[] = [];
      for (let i = 0; i < runs + 1; i++) {
        want = ++value;
        const applied = new Promise<void>((r) => { seen = r; });
        await git.fixture.commitFiles({ "app/cm.yaml": cm(want) }, `v${want}`);
        const t0 = performance.now();
        await client.patch(gitRepositoriesRes, { namespace: "bench", name: "repo" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": `${Date.now()}` } } });
        await Promise.race([applied, new Promise((_, rej) => setTimeout(() => rej(new Error(`${side}: v${want} not applied in 60 s`)), 60_000))]);
        if (i > 0) latencies.push(performance.now() - t0); // the first run warms up the controller
      }
      await watcher.stop();
      await stop(p);
      // Leave it to no other controller: suspended (its finalizer stays, nothing reconciles it).
      await client.patch(kustomizationsRes, { namespace: "bench", name: `app-${side}` }, { spec: { suspend: true } });
      results[`${side}_p50_ms`] = Math.round(pct(latencies, 50));
      results[`${side}_p95_ms`] = Math.round(pct(latencies, 95));
      console.error(`[latency] ${side}: p50 ${results[`${side}_p50_ms`]} ms, p95 ${results[`${side}_p95_ms`]} ms over ${latencies.length} commits`);
      await new Promise((r) => setTimeout(r, 3000));
    }
    console.log(JSON.stringify(results, null, 2));
    await git.close();
  } finally {
    for (const p of procs) await stop(p).catch(() => undefined);
    await devCluster.down(cluster.dir);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
