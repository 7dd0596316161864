// Benchmark: N Kustomizations of `per` ConfigMaps each from one GitRepository, applied by our
// kustomize-controller and by the upstream kustomize-controller v1.9.5 (both fed by our
// source-controller's artifact), on the same embedded cluster, with the same concurrency,
// client QPS/burst and TMPDIR; plus the floor (a bare SSA loop). Prints wall time to all
// Ready, peak RSS and ratios; writes JSON to bench/results/.
//   node dist/bench/kustomize.js [--count 1000] [--per 10] [--qps 50] [--burst 300]
//     [--concurrent 4] [--concurrent-ssa 4] [--tmpdir /dev/shm] [--sides ours,peer,floor]
//     [--shards 3]
// --shards N (N > 1, side `ours` only): the Kustomizations are labelled
// `sharding.fluxcd.io/key: shard<i mod N>` and ours runs as Flux's sharding guide sets it up:
// one kustomize-controller process per shard (`--watch-label-selector
// sharding.fluxcd.io/key=shard<k>`), each with its own client limits, plus the main instance
// excluding every shard (`--watch-label-selector '!sharding.fluxcd.io/key'`); wall time is
// from the first start until all are Ready, CPU and peak RSS are given per instance.
//     [--steady]   then the steady state: all reconciled again, unchanged (kustomize-steady.ts)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import * as devCluster from "../cli/dev-cluster";
import { freePort } from "../cli/ports";
import { repoRoot } from "../cli/tools";
import { allCrds } from "../controllers/api/registry";
import { KubeClient } from "../controllers/runtime/kube";
import { floorRun } from "./kustomize-floor";
import { ClientLimits, Proc, cpuSeconds, peakRssMiB, startOurs, startPeer, stop, waitAllReady } from "./kustomize-procs";
import { steadyRun } from "./kustomize-steady";
import { ShardLabel, createGitRepository, createKustomizations, gitRepositoriesRes, shardKey, startRepo } from "./kustomize-workload";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const count = Number(arg("count", "1000"));
const per = Number(arg("per", "10"));
const limits: ClientLimits = { concurrent: Number(arg("concurrent", "4")), concurrentSsa: Number(arg("concurrent-ssa", "4")), qps: Number(arg("qps", "50")), burst: Number(arg("burst", "300")) };
const tmpdir = arg("tmpdir", "/dev/shm");
const sides = arg("sides", "ours,peer,floor").split(",");
const shards = Number(arg("shards", "1"));
if (!Number.isInteger(shards) || shards < 1) throw new Error(`--shards must be a whole number of at least 1, got '${arg("shards", "1")}'`);
if (shards > 1 && sides.includes("peer")) throw new Error("--shards applies to our controller only: give --sides ours (or ours,floor)");
const steady = process.argv.includes("--steady");
const log = (m: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-"));
  const cluster = await devCluster.up({ dir: path.join(work, "cluster"), log: () => undefined });
  const procs: Proc[] = [];
  onSignal = async () => {
    for (const p of procs) await stop(p).catch(() => undefined);
    await devCluster.down(cluster.dir);
    fs.rmSync(work, { recursive: true, force: true });
  };
  const results: Record<string, unknown> = { count, per, limits, shards, tmpdir, cpus: os.cpus().length, node: process.version, date: new Date().toISOString() };
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const client = KubeClient.fromKubeConfig(kc, { qps: 0 });
    const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };
    for (const crd of allCrds()) await client.apply(crdRes, crd as never, { fieldManager: "bench", force: true });
    await new Promise((r) => setTimeout(r, 2000));
    log(`cluster up; committing ${count}x${per} ConfigMaps`);
    const repo = await startRepo(count, per);
    const storagePort = await freePort();
    procs.push(startOurs("source", cluster.kubeconfig, limits, tmpdir, work, ["--storage-path", path.join(work, "storage"), "--storage-addr", `127.0.0.1:${storagePort}`]));
    await createGitRepository(client, repo.urls.http!);
    await waitArtifact(client);
    log("artifact ready");

    for (const side of sides) {
      if (side === "floor") {
        for (const inFlight of [limits.concurrent, limits.concurrent * limits.concurrentSsa]) {
          const ms = await floorRun(KubeClient.fromKubeConfig(kc, { qps: limits.qps, burst: limits.burst }), `floor${inFlight}`, count, per, inFlight);
          results[`floor_${inFlight}_inflight_s`] = ms / 1000;
          log(`floor (${inFlight} in flight): ${(ms / 1000).toFixed(1)} s`);
        }
        continue;
      }
      if (side === "ours" && shards > 1) {
        await createKustomizations(client, side, count, shards);
        log(`${side}: ${count} Kustomizations created over ${shards} shards; starting ${shards} shard controllers and the main one`);
        const instances: Array<{ name: string; p: Proc }> = [{ name: "main", p: startOurs("kustomize", cluster.kubeconfig, limits, tmpdir, work, ["--watch-label-selector", `!${ShardLabel}`], "ours-kustomize-main") }];
        for (let k = 0; k < shards; k++) {
          instances.push({ name: shardKey(k), p: startOurs("kustomize", cluster.kubeconfig, limits, tmpdir, work, ["--watch-label-selector", `${ShardLabel}=${shardKey(k)}`], `ours-kustomize-${shardKey(k)}`) });
        }
        procs.push(...instances.map((i) => i.p));
        const startedAt = Math.min(...instances.map((i) => i.p.startedAt));
        const doneAt = await waitAllReady(client, side, count, 3_600_000, instances.map((i) => i.p), (n) => log(`${side}: ${n}/${count} Ready`));
        const per = instances.map((i) => ({ instance: i.name, cpu_s: +cpuSeconds(i.p.child.pid!).toFixed(1), peak_rss_mib: Math.round(peakRssMiB(i.p.child.pid!)) }));
        results.ours_s = (doneAt - startedAt) / 1000;
        results.ours_cpu_s = +per.reduce((a, i) => a + i.cpu_s, 0).toFixed(1);
        results.ours_peak_rss_mib = Math.max(...per.map((i) => i.peak_rss_mib));
        results.ours_instances = per;
        log(`${side}: all Ready in ${results.ours_s} s over ${shards} shards; per instance ${JSON.stringify(per)}`);
        for (const i of instances) await stop(i.p);
        continue;
      }
      await createKustomizations(client, side, count);
      log(`${side}: ${count} Kustomizations created; starting the controller`);
      const metricsAddr = `127.0.0.1:${await freePort()}`;
      const p = side === "ours" ? startOurs("kustomize", cluster.kubeconfig, limits, tmpdir, work, ["--metrics-addr", metricsAddr])
        : startPeer(cluster.kubeconfig, limits, tmpdir, work, metricsAddr);
      procs.push(p);
      const doneAt = await waitAllReady(client, side, count, 3_600_000, p, (n) => log(`${side}: ${n}/${count} Ready`));
      const rss = peakRssMiB(p.child.pid!);
      results[`${side}_cpu_s`] = +cpuSeconds(p.child.pid!).toFixed(1);
      if (side === "ours" && process.env.BENCH_HEAP_SNAPSHOT) {
        // Started with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2: a snapshot lands in the cwd.
        p.child.kill("SIGUSR2");
        await new Promise((r) => setTimeout(r, 20_000));
      }
      results[`${side}_s`] = (doneAt - p.startedAt) / 1000;
      results[`${side}_peak_rss_mib`] = Math.round(rss);
      log(`${side}: all Ready in ${((doneAt - p.startedAt) / 1000).toFixed(1)} s, peak RSS ${rss.toFixed(0)} MiB, CPU ${results[`${side}_cpu_s`]} s`);
      if (steady) {
        const s = await steadyRun(client, side, count, p, metricsAddr, log);
        results[`${side}_steady`] = s;
        log(`${side}: steady state: ${s.wall_s} s, CPU ${s.cpu_s} s, ${s.requests} API requests (${s.requests_per_kustomization} per Kustomization; ${JSON.stringify(s.by_method)})`);
      }
      await stop(p);
    }
    if (typeof results.ours_s === "number" && typeof results.peer_s === "number") results.peer_over_ours = +(results.peer_s / results.ours_s).toFixed(2);
    const floor = results[`floor_${limits.concurrent * limits.concurrentSsa}_inflight_s`];
    if (typeof results.ours_s === "number" && typeof floor === "number") results.ours_over_floor = +(results.ours_s / floor).toFixed(2);
    console.log(JSON.stringify(results, null, 2));
    const out = path.join(repoRoot, "bench", "results");
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, `kustomize-${count}x${per}-qps${limits.qps}${shards > 1 ? `-shards${shards}` : ""}-${Date.now()}.json`), JSON.stringify(results, null, 2));
    await repo.close();
  } finally {
    for (const p of procs) await stop(p).catch(() => undefined);
    await devCluster.down(cluster.dir);
    if (process.argv.includes("--keep")) log(`logs kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

async function waitArtifact(client: KubeClient): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const g = await client.get<{ metadata?: object; status?: { artifact?: unknown } }>(gitRepositoriesRes, { namespace: "bench", name: "repo" });
    if (g?.status?.artifact) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the GitRepository produced no artifact");
}

/** Stops the controllers and the cluster when the run is interrupted. */
let onSignal: (() => Promise<void>) | undefined;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    console.error(`${sig}: stopping the controllers and the cluster`);
    void (onSignal?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
