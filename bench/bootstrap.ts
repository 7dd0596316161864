/**
 * `pulumi up` of a Bootstrap against the floor, in one run on one fresh embedded cluster:
 *
 *   floor      the same objects the bootstrap applies (install + credentials Secret + sync),
 *              with a bare server-side-apply loop (16 in flight, CRDs first), then the same
 *              readiness: Deployments Available, GitRepository and Kustomization Ready at the
 *              revision of the same files (pushed beforehand, not timed);
 *   pulumi up  a new stack with one Bootstrap (automation API, local backend, the plugin): engine,
 *              plugin start, render, commit + push, staged apply, Secret, sync, the same waits;
 *   no-op up   the same stack again (preview + diff with the live drift check, no changes).
 *
 * Our source- and kustomize-controllers run as local processes for both (kwok simulates pods).
 * The CRDs are applied before either is timed (the controllers watch them), so both runs apply
 * them as no-ops. Results: printed, bench/bootstrap-results.json, and with --write-docs the
 * "Bootstrap (Pulumi provider)" section of docs/benchmarks.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/bootstrap.js [--runs 3] [--write-docs]
 */
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import * as pulumi from "@pulumi/pulumi";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as devCluster from "../cli/dev-cluster";
import { Cluster, mapLimit } from "../provider/cluster/client";
import { applyStaged, waitDeployments } from "../provider/cluster/install-apply";
import { waitReady } from "../provider/cluster/wait";
import { serveGit, seedRepository } from "../provider/dev/git-server";
import { writeFiles } from "../provider/git/session";
import { Bootstrap } from "../provider";
import { renderInstall } from "../provider/manifests/install";
import { objectsFromFiles, planBootstrap } from "../provider/resources/bootstrap-plan";
import { writeSection } from "./report";

const root = path.resolve(__dirname, "..", "..");
const tools = process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools");
const arg = (n: string) => process.argv.includes(`--${n}`);
const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] || 3) || 3;
const secs = (ms: number) => (ms / 1000).toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startControllers(kubeconfig: string, dir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(root, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfig, "--only", "source,kustomize",
    "--storage-path", path.join(dir, "storage"), "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  const deadline = Date.now() + 60_000;
  while (!log.includes("controllers started")) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`controllers did not start: ${log.slice(-1000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-bench-bootstrap-"));
  const clusterDir = path.join(work, "cluster");
  let controllers: ChildProcess | undefined;
  let server: { close(): void } | undefined;
  try {
    console.error("starting a fresh embedded cluster ...");
    const state = await devCluster.up({ dir: clusterDir, contextName: "bench" });
    const kubeconfig = fs.readFileSync(state.kubeconfig, "utf8");
    const cluster = new Cluster({ kubeconfig });
    await applyStaged(cluster, renderInstall({}).objects.filter((o) => o.kind === "CustomResourceDefinition"), Date.now() + 60_000);
    controllers = await startControllers(state.kubeconfig, work);

    const creds = { username: "bench", password: "bench-password" };
    seedRepository(path.join(work, "git"), "fleet.git", path.join(root, "examples", "quickstart", "repo"));
    const git = await serveGit({ root: path.join(work, "git"), ...creds });
    server = git;
    const url = `http://127.0.0.1:${(git.address() as { port: number }).port}/fleet.git`;
    const components = ["source-controller", "kustomize-controller"] as ("source-controller" | "kustomize-controller")[];

    // Pulumi environment (per-run home, file backend).
    const home = path.join(work, "pulumi-home");
    fs.mkdirSync(home);
    fs.mkdirSync(path.join(work, "state"));
    const envVars = {
      PULUMI_HOME: home, PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`, PULUMI_CONFIG_PASSPHRASE: "bench",
      PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    };
    const cmd = await PulumiCommand.get({ root: tools });

    const floorMs: number[] = [];
    const upMs: number[] = [];
    const noopMs: number[] = [];
    for (let run = 0; run < runs; run++) {
      // --- floor: bare SSA of the same objects, then the same waits ---
      const nsF = `floor-${run}`;
      const inputs = { url, path: `clusters/${nsF}`, namespace: nsF, components, http: { ...creds, allowInsecureHttp: true } };
      const plan = planBootstrap(inputs);
      const pushed = await writeFiles({ url, branch: "main", credentials: { http: creds } }, plan.files, "floor files");
      const { install, sync } = objectsFromFiles(plan.files, plan.dir);
      const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: nsF, namespace: nsF }, type: "Opaque", data: { username: Buffer.from(creds.username).toString("base64"), password: Buffer.from(creds.password).toString("base64") } };
      const t0 = Date.now();
      const first = install.filter((o) => o.kind === "CustomResourceDefinition" || o.kind === "Namespace");
      await mapLimit(first, 16, (o) => cluster.apply(o));
      await mapLimit([...install.filter((o) => !first.includes(o)), secret, ...sync], 16, (o) => cluster.apply(o));
      const deadline = Date.now() + 120_000;
      await waitDeployments(cluster, install.filter((o) => o.kind === "Deployment"), deadline);
      const rev = `main@sha1:${pushed.revision}`;
      await waitReady(cluster, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", name: nsF, namespace: nsF }, { deadline, revision: rev, intervalMs: 50 });
      await waitReady(cluster, { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", name: nsF, namespace: nsF }, { deadline, revision: rev, intervalMs: 50 });
      floorMs.push(Date.now() - t0);

      // --- pulumi up of a Bootstrap ---
      const nsP = `pulumi-${run}`;
      const stack = await LocalWorkspace.createOrSelectStack(
        {
          stackName: `bench${run}`,
          projectName: "bench-bootstrap",
          program: async () => {
            const b = new Bootstrap("flux", { url, path: `clusters/${nsP}`, namespace: nsP, components, http: { ...creds, password: pulumi.secret(creds.password), allowInsecureHttp: true }, kubeconfig: pulumi.secret(kubeconfig), timeout: "2m" });
            return { appliedRevision: b.appliedRevision };
          },
        },
        {
          workDir: fs.mkdtempSync(path.join(work, "proj-")), pulumiCommand: cmd, pulumiHome: home, envVars, secretsProvider: "passphrase",
          projectSettings: { name: "bench-bootstrap", runtime: "nodejs", ...({ plugins: { providers: [{ name: "gitops", path: path.join(root, "provider", "bin") }] } } as object) },
        },
      );
      const t1 = Date.now();
      const up = await stack.up();
      upMs.push(Date.now() - t1);
      if (!String(up.outputs.appliedRevision?.value ?? "").startsWith("main@sha1:")) throw new Error("the bootstrap did not report an applied revision");
      const t2 = Date.now();
      const again = await stack.up();
      noopMs.push(Date.now() - t2);
      const changes = Object.entries(again.summary.resourceChanges ?? {}).filter(([k]) => k !== "same");
      if (changes.length > 0) throw new Error(`the second up was not a no-op: ${JSON.stringify(again.summary.resourceChanges)}`);
      console.error(`run ${run + 1}/${runs}: floor ${secs(floorMs[run]!)} s, pulumi up ${secs(upMs[run]!)} s, no-op up ${secs(noopMs[run]!)} s`);
    }

    const result = {
      date: new Date().toISOString(),
      runs,
      floorMs: median(floorMs),
      pulumiUpMs: median(upMs),
      noopUpMs: median(noopMs),
      ratio: Number((median(upMs) / median(floorMs)).toFixed(2)),
      all: { floorMs, upMs, noopMs },
      cores: os.cpus().length,
    };
    fs.writeFileSync(path.join(root, "bench", "bootstrap-results.json"), JSON.stringify(result, null, 2) + "\n");
    const body = [
      `Measured ${result.date.slice(0, 10)} on ${result.cores} cores (\`node dist/bench/bootstrap.js --runs ${runs}\`), medians of ${runs} runs on one fresh embedded cluster, source- and kustomize-controller as local processes.`,
      "",
      `- \`pulumi up\` of a Bootstrap (engine + plugin start, render, commit + push, staged SSA, Secret, sync, wait until the Kustomization is Ready at the pushed revision): **${secs(result.pulumiUpMs)} s**`,
      `- floor, the same objects with a bare server-side-apply loop (16 in flight) and the same waits: **${secs(result.floorMs)} s**`,
      `- **ratio ${result.ratio}x**`,
      `- no-op \`pulumi up\` (preview, diff with a live drift check of git and the root objects): **${secs(result.noopUpMs)} s**`,
    ].join("\n");
    console.log(body);
    if (arg("write-docs")) writeSection(path.join(root, "docs", "benchmarks.md"), "Bootstrap (Pulumi provider)", body);
    cluster.close();
  } finally {
    if (controllers && controllers.exitCode === null) controllers.kill("SIGTERM");
    server?.close();
    await devCluster.down(clusterDir).catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
