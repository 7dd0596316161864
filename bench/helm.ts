// Benchmark: N HelmReleases of one small local chart (a ConfigMap and a Service), installed by
// our helm-controller and by the upstream helm-controller v1.6.4 built from its Go module, on the
// same embedded cluster with Flux's default settings (--concurrent 4, qps 50, burst 300); the
// floor is a bare `helm upgrade --install --wait` loop with 4 in flight. Every HelmRelease points
// at one HelmChart built before the clock starts (spec.chartRef), so the figure is the release
// work, not chart fetching. Prints wall time to all Ready, peak RSS, CPU and ratios; writes JSON
// to bench/results/ and the "HelmRelease" section of docs/benchmarks.md.
//   node dist/bench/helm.js [--count 200] [--sides ours,peer,floor] [--concurrent 4]
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import * as devCluster from "../cli/dev-cluster";
import { freePort } from "../cli/ports";
import { repoRoot, tool } from "../cli/tools";
import { allCrds } from "../controllers/api/registry";
import { KubeClient } from "../controllers/runtime/kube";
import { mapLimit } from "../controllers/runtime/ssa";
import { HelmRepoServer } from "../test/support/helm-repo";
import { runChecked } from "../test/support/git-cli";
import { ClientLimits, Proc, cpuSeconds, peakRssMiB, startOurs, stop, waitAllReady } from "./kustomize-procs";
import { ensureNamespace } from "./kustomize-workload";
import { writeSection } from "./report";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}
const count = Number(arg("count", "200"));
const sides = arg("sides", "ours,peer,floor").split(",");
const limits: ClientLimits = { concurrent: Number(arg("concurrent", "4")), concurrentSsa: 4, qps: 50, burst: 300 };
const log = (m: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);
const helmReleasesRes = { group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", kind: "HelmRelease" };
const helmChartsRes = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "helmcharts", kind: "HelmChart" };
const helmReposRes = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "helmrepositories", kind: "HelmRepository" };
const PEER_VERSION = "v1.6.4";

/** The upstream helm-controller binary, built by `bash scripts/setup-tools.sh bench`. */
function peerBinary(): string | undefined {
  try { return tool("helm-controller"); } catch { return undefined; }
}

function chartFiles(dir: string): void {
  fs.mkdirSync(path.join(dir, "templates"), { recursive: true });
  fs.writeFileSync(path.join(dir, "Chart.yaml"), "apiVersion: v2\nname: small\nversion: 1.0.0\n");
  fs.writeFileSync(path.join(dir, "values.yaml"), "greeting: hello\n");
  fs.writeFileSync(path.join(dir, "templates", "configmap.yaml"),
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  payload: \"" + "x".repeat(64) + "\"\n");
  fs.writeFileSync(path.join(dir, "templates", "service.yaml"),
    "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports:\n    - port: 80\n  selector:\n    app: {{ .Release.Name }}\n");
}

async function createReleases(client: KubeClient, ns: string): Promise<void> {
  await ensureNamespace(client, ns);
  await client.apply(helmChartsRes, {
    apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmChart", metadata: { name: "small", namespace: ns },
    spec: { chart: "small", version: "1.0.0", interval: "60m", sourceRef: { kind: "HelmRepository", name: "charts" }, reconcileStrategy: "ChartVersion" },
  } as never, { fieldManager: "bench", force: true });
  await client.apply(helmReposRes, {
    apiVersion: "source.toolkit.fluxcd.io/v1", kind: "HelmRepository", metadata: { name: "charts", namespace: ns },
    spec: { url: repoUrl, interval: "60m" },
  } as never, { fieldManager: "bench", force: true });
  for (let i = 0; i < 600; i++) {
    const c = await client.get<{ metadata?: object; status?: { artifact?: unknown } }>(helmChartsRes, { namespace: ns, name: "small" });
    if (c?.status?.artifact) break;
    if (i === 599) throw new Error(`HelmChart ${ns}/small has no artifact`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await mapLimit([...Array(count).keys()], 8, async (i) => {
    await client.apply(helmReleasesRes, {
      apiVersion: "helm.toolkit.fluxcd.io/v2", kind: "HelmRelease", metadata: { name: `app-${i}`, namespace: ns },
      spec: { interval: "60m", chartRef: { kind: "HelmChart", name: "small" }, values: { greeting: `hello-${i}` } },
    } as never, { fieldManager: "bench", force: true });
  });
}

/** `helm upgrade --install --wait` for every release, `inFlight` at a time; returns ms. */
async function floorRun(kubeconfig: string, ns: string, chartTgz: string, inFlight: number, work: string): Promise<number> {
  await ensureNamespace(kube, ns);
  const home = path.join(work, "floor-helm");
  const env = { ...process.env, KUBECONFIG: kubeconfig, HELM_CONFIG_HOME: home, HELM_CACHE_HOME: home, HELM_DATA_HOME: home };
  const t0 = Date.now();
  await mapLimit([...Array(count).keys()], inFlight, async (i) => {
    await runChecked(tool("helm"), ["upgrade", "--install", `app-${i}`, chartTgz, "-n", ns, "--wait", "--timeout", "5m", "--set", `greeting=hello-${i}`], { env, timeoutMs: 600_000 });
  });
  return Date.now() - t0;
}

let kube: KubeClient;
let repoUrl = "";

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-helm-"));
  const cluster = await devCluster.up({ dir: path.join(work, "cluster"), log: () => undefined });
  const procs: Proc[] = [];
  const results: Record<string, unknown> = { count, limits, cpus: os.cpus().length, node: process.version, date: new Date().toISOString(), peer: `helm-controller ${PEER_VERSION}` };
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    kube = KubeClient.fromKubeConfig(kc, { qps: 0 });
    const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false };
    for (const crd of allCrds()) await kube.apply(crdRes, crd as never, { fieldManager: "bench", force: true });
    await new Promise((r) => setTimeout(r, 2000));
    const repo = await HelmRepoServer.start();
    chartFiles(path.join(work, "chart", "small"));
    const out = await runChecked(tool("helm"), ["package", path.join(work, "chart", "small"), "--destination", repo.www], { env: { ...process.env, HELM_CONFIG_HOME: work, HELM_CACHE_HOME: work, HELM_DATA_HOME: work } });
    const chartTgz = /saved it to: (.+\.tgz)/.exec(out)![1].trim();
    await repo.reindex();
    repoUrl = repo.url;
    procs.push(startOurs("source", cluster.kubeconfig, limits, os.tmpdir(), work, ["--storage-path", path.join(work, "storage"), "--storage-addr", `127.0.0.1:${await freePort()}`]));
    log(`cluster up; ${count} HelmReleases per side`);

    for (const side of sides) {
      if (side === "floor") {
        const ms = await floorRun(cluster.kubeconfig, "floor", chartTgz, limits.concurrent, work);
        results.floor_s = ms / 1000;
        log(`floor (helm upgrade --install --wait, ${limits.concurrent} in flight): ${(ms / 1000).toFixed(1)} s`);
        continue;
      }
      let p: Proc;
      if (side === "peer") {
        const bin = peerBinary();
        if (!bin) {
          results.peer_error = `the upstream helm-controller ${PEER_VERSION} binary was not found (build it with: bash scripts/setup-tools.sh bench); reporting ours and the floor only`;
          log(String(results.peer_error));
          continue;
        }
        await createReleases(kube, side);
        const logFile = fs.openSync(path.join(work, "peer-helm-controller.log"), "w");
        const child = spawn(bin, ["--metrics-addr=127.0.0.1:0", "--health-addr=127.0.0.1:0", "--enable-leader-election=false", "--watch-all-namespaces=true",
          `--concurrent=${limits.concurrent}`, `--kube-api-qps=${limits.qps}`, `--kube-api-burst=${limits.burst}`, "--log-level=error"],
        { env: { ...process.env, KUBECONFIG: cluster.kubeconfig, RUNTIME_NAMESPACE: "bench" }, stdio: ["ignore", logFile, logFile] });
        p = { child, log: path.join(work, "peer-helm-controller.log"), startedAt: Date.now() };
      } else {
        await createReleases(kube, side);
        p = startOurs("helm", cluster.kubeconfig, limits, os.tmpdir(), work, process.env.BENCH_LOG_LEVEL ? ["--log-level", process.env.BENCH_LOG_LEVEL] : []);
      }
      procs.push(p);
      log(`${side}: ${count} HelmReleases created; controller started`);
      const doneAt = await waitAllReady(kube, side, count, 1_800_000, p, (n) => log(`${side}: ${n}/${count} Ready`), helmReleasesRes);
      results[`${side}_s`] = (doneAt - p.startedAt) / 1000;
      results[`${side}_peak_rss_mib`] = Math.round(peakRssMiB(p.child.pid!));
      results[`${side}_cpu_s`] = +cpuSeconds(p.child.pid!).toFixed(1);
      log(`${side}: all Ready in ${results[`${side}_s`]} s, peak RSS ${results[`${side}_peak_rss_mib`]} MiB, CPU ${results[`${side}_cpu_s`]} s`);
      await stop(p);
    }
    const n = (k: string) => (typeof results[k] === "number" ? (results[k] as number) : undefined);
    const ours = n("ours_s"), peer = n("peer_s"), floor = n("floor_s");
    if (ours && floor) results.ours_over_floor = +(ours / floor).toFixed(2);
    if (ours && peer) results.peer_over_ours = +(peer / ours).toFixed(2);
    if (peer && floor) results.peer_over_floor = +(peer / floor).toFixed(2);
    console.log(JSON.stringify(results, null, 2));
    const dir = path.join(repoRoot, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `helm-${count}-${Date.now()}.json`), JSON.stringify(results, null, 2));
    if (process.argv.includes("--write-docs")) writeDocs(results);
    await repo.close();
  } finally {
    for (const p of procs) await stop(p).catch(() => undefined);
    await devCluster.down(cluster.dir);
    if (process.argv.includes("--keep")) log(`logs kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

function writeDocs(r: Record<string, unknown>): void {
  const f = (k: string, unit = "") => (r[k] === undefined ? "n/a" : `${r[k]}${unit}`);
  writeSection(path.join(repoRoot, "docs", "benchmarks.md"), "HelmRelease (helm-controller)", `
\`node dist/bench/helm.js --count ${r.count} --write-docs\` (${r.date}, ${r.cpus} CPUs): ${r.count} HelmReleases of one small chart
(a ConfigMap and a Service), all pointing at one prebuilt HelmChart (\`spec.chartRef\`), created before the controller
starts; time from controller start to every HelmRelease Ready. Flux's defaults on both controllers: \`--concurrent 4\`,
qps 50, burst 300. Floor: \`helm upgrade --install --wait\` per release, 4 in flight (the helm v3 CLI).

| side | wall time | peak RSS | CPU |
|---|---|---|---|
| ours | ${f("ours_s", " s")} | ${f("ours_peak_rss_mib", " MiB")} | ${f("ours_cpu_s", " s")} |
| upstream helm-controller ${PEER_VERSION} | ${f("peer_s", " s")} | ${f("peer_peak_rss_mib", " MiB")} | ${f("peer_cpu_s", " s")} |
| floor (helm CLI loop) | ${f("floor_s", " s")} | | |

ours / floor: **${f("ours_over_floor", "x")}** (goal 1.2x); peer / ours: ${f("peer_over_ours", "x")}; peer / floor: ${f("peer_over_floor", "x")}.
${r.peer_error ? `\nPeer not run: ${r.peer_error}\n` : ""}`);
}

main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
