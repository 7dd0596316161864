// source-controller benchmarks (issue 3), each with a reference measured in the same run:
//  1. artifact build of a 10,000-file repository vs `git archive --format=tar.gz` (the floor);
//  2. cost of a reconcile when the revision is unchanged (p50/p95, request to status update);
//  3. 200 GitRepositories on one controller process: time until all Ready, and its peak RSS.
// Upstream source-controller cannot be built here (docs/toolchain.md), so there is no peer run.
// Usage: node dist/bench/source.js [--repos 200] [--files 10000] [--write docs/benchmarks.md]
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@kubernetes/client-node";
import * as devCluster from "../cli/dev-cluster";
import { repoRoot } from "../cli/tools";
import { allCrds } from "../controllers/api/registry";
import { KubeClient } from "../controllers/runtime/kube";
import { filterFiles } from "../controllers/source/ignore";
import { withEmptiedDirs } from "../controllers/source/git/gitrepository-reconciler";
import { Storage } from "../controllers/runtime/artifact-storage";
import { GitRepository } from "../controllers/api/source/v1/git-repository";
import { startGitServers } from "../test/support/git-server";
import { freePort } from "../cli/ports";
import { writeSection } from "./report";

const arg = (n: string, d: number) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
const gitRepos = { group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository" };
const crdRes = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", kind: "CustomResourceDefinition" };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function artifactBuild(files: number): Promise<string[]> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-"));
  const repo = path.join(work, "repo");
  fs.mkdirSync(repo);
  for (let i = 0; i < files; i++) {
    const d = path.join(repo, `app-${Math.floor(i / 100)}`);
    if (i % 100 === 0) fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, `cm-${i}.yaml`), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  key: value-${i}\n`);
  }
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", HOME: work, GIT_AUTHOR_NAME: "b", GIT_AUTHOR_EMAIL: "b@x", GIT_COMMITTER_NAME: "b", GIT_COMMITTER_EMAIL: "b@x" };
  execFileSync("git", ["init", "-q"], { cwd: repo, env });
  execFileSync("git", ["add", "-A"], { cwd: repo, env });
  execFileSync("git", ["-c", "gc.auto=0", "commit", "-qm", "bench"], { cwd: repo, env });
  const storage = new Storage(path.join(work, "storage"), "127.0.0.1:1");
  const ours: number[] = [];
  const floor: number[] = [];
  execFileSync("git", ["repack", "-adq"], { cwd: repo, env }); // a fetched repository holds packs, not loose objects
  for (let run = 0; run < 7; run++) {
    let t = process.hrtime.bigint();
    execFileSync("sh", ["-c", `git archive --format=tar.gz HEAD > ${work}/floor.tar.gz`], { cwd: repo, env });
    floor.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    // The reconciler's path for a plain checkout: list tracked files, apply ignore rules, archive from git.
    const tracked = execFileSync("git", ["ls-files", "-z"], { cwd: repo, encoding: "utf8", maxBuffer: 1 << 28 }).split("\0").filter(Boolean);
    const keep = new Set(filterFiles(tracked, (f) => fs.readFileSync(path.join(repo, f), "utf8")));
    await storage.archiveCommit(repo, withEmptiedDirs(tracked.filter((f) => !keep.has(f)), keep), `gitrepository/b/b/run${run}.tar.gz`, "main@sha1:x");
    ours.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  fs.rmSync(work, { recursive: true, force: true });
  return [
    `Artifact build, ${files} files (${os.tmpdir()}), 7 runs each, interleaved: ours p50 ${median(ours).toFixed(0)} ms ` +
    `(git ls-files + ignore rules + git archive from the object store + gzip + sha256 + fsync + rename), ` +
    `\`git archive --format=tar.gz\` p50 ${median(floor).toFixed(0)} ms: **ratio ${(median(ours) / median(floor)).toFixed(2)}x** (target within 1.5x).`,
  ];
}

async function controllerRuns(repos: number): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-cluster-"));
  const state = await devCluster.up({ dir });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(state.kubeconfig);
  const client = KubeClient.fromKubeConfig(kc, { qps: 500, burst: 1000 });
  const git = await startGitServers({ http: {}, files: { "deploy/a.yaml": "a: 1\n" } });
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-storage-"));
  const ctl = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", state.kubeconfig, "--only", "source",
    "--storage-path", storageDir, "--storage-addr", `127.0.0.1:${await freePort()}`, "--concurrent", "4",
    "--kube-api-qps", "50", "--kube-api-burst", "300", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"] });
  const lines: string[] = [];
  try {
    for (const crd of allCrds()) await client.apply(crdRes, crd as never, { fieldManager: "bench", force: true });
    await sleep(1500);
    const ns = "bench";
    await client.create({ group: "", version: "v1", plural: "namespaces", kind: "Namespace" }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    // Unchanged revision: one repository, 30 reconcile requests, each timed until status says handled.
    await client.create(gitRepos, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "one", namespace: ns }, spec: { interval: "1h", url: git.http!.url(), ref: { branch: "main" } } } as never);
    const get = (name: string) => client.get<GitRepository>(gitRepos, { namespace: ns, name });
    while ((await get("one"))?.status?.conditions?.find((c) => c.type === "Ready")?.status !== "True") await sleep(20);
    const lat: number[] = [];
    git.http!.resetRequests();
    for (let i = 0; i < 30; i++) {
      const t = Date.now();
      await client.patch(gitRepos, { namespace: ns, name: "one" }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": `r${i}` } } });
      while ((await get("one"))?.status?.lastHandledReconcileAt !== `r${i}`) await sleep(2);
      lat.push(Date.now() - t);
    }
    const fetches = git.http!.requests.filter((r) => r.method === "POST").length;
    lines.push(`Unchanged revision, 30 reconcile requests on one GitRepository: request-to-status p50 **${median(lat)} ms**, p95 ${pct(lat, 0.95)} ms ` +
      `(annotate, watch event, ls-remote over HTTP, status patch, watch read-back); git requests per reconcile: ${(fetches / 30).toFixed(1)} upload-pack POST (ls-refs only, no clone) (target: no clone, under 100 ms).`);

    // Many repositories on one controller.
    const t0 = Date.now();
    await Promise.all(Array.from({ length: repos }, (_, i) => client.create(gitRepos, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: `repo-${i}`, namespace: ns },
      spec: { interval: "10m", url: git.http!.url(), ref: { branch: "main" } },
    } as never)));
    let ready = 0;
    let peakKb = 0;
    while (ready < repos) {
      const list = await client.list<GitRepository>(gitRepos, { namespace: ns });
      ready = list.items.filter((g) => g.metadata.name!.startsWith("repo-") && g.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")).length;
      peakKb = Math.max(peakKb, rssHwmKb(ctl.pid!));
      if (Date.now() - t0 > 600000) throw new Error(`only ${ready}/${repos} Ready after 10 minutes`);
      await sleep(200);
    }
    const wall = (Date.now() - t0) / 1000;
    lines.push(`${repos} GitRepositories created at once, one controller process (--concurrent 4, --kube-api-qps 50, --kube-api-burst 300): ` +
      `all Ready in **${wall.toFixed(1)} s** (${(repos / wall).toFixed(1)}/s), controller peak RSS **${(peakKb / 1024).toFixed(0)} MiB**.`);
  } finally {
    ctl.kill("SIGTERM");
    await git.close();
    await devCluster.down(dir);
    fs.rmSync(storageDir, { recursive: true, force: true });
  }
  return lines;
}

function rssHwmKb(pid: number): number {
  // bin/gitops execs node, so the pid is the node process itself.
  try { return Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0); } catch { return 0; }
}

async function main(): Promise<void> {
  const lines = [
    ...(await artifactBuild(arg("files", 10000))),
    ...(arg("repos", 200) > 0 ? await controllerRuns(arg("repos", 200)) : []),
  ];
  const body = `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (\`node dist/bench/source.js\`). ` +
    "No upstream peer: source-controller cannot be built from the module proxy (docs/toolchain.md).\n\n" + lines.map((l) => `- ${l}`).join("\n") + "\n";
  console.log(body);
  const out = process.argv.includes("--write") ? process.argv[process.argv.indexOf("--write") + 1] : undefined;
  if (out) writeSection(out, "GitRepository (source-controller)", body);
}

main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
