// Controller processes for the benchmark (ours via the gitops CLI, the upstream
// kustomize-controller binary), their peak RSS, and waiting until every Kustomization of a
// namespace is Ready at its current generation.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot, tool } from "../cli/tools";
import { KubeClient } from "../controllers/runtime/kube";
import type { ResourceRef } from "../controllers/runtime/kube";
import { Watcher } from "../controllers/runtime/watch";
import { kustomizationsRes } from "./kustomize-workload";

export interface Proc { child: ChildProcess; log: string; startedAt: number }

export interface ClientLimits { concurrent: number; concurrentSsa: number; qps: number; burst: number }

function start(bin: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): Proc {
  const out = fs.openSync(logFile, "w");
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  return { child, log: logFile, startedAt: Date.now() };
}

export function startOurs(what: "source" | "kustomize" | "helm", kubeconfig: string, l: ClientLimits, tmpdir: string, logDir: string, extra: string[] = [], logName = `ours-${what}`): Proc {
  return start(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfig, "--only", what,
    "--concurrent", String(l.concurrent), "--concurrent-ssa", String(l.concurrentSsa), "--kube-api-qps", String(l.qps), "--kube-api-burst", String(l.burst),
    "--log-level", "error", ...extra], { TMPDIR: tmpdir, RUNTIME_NAMESPACE: "bench" }, path.join(logDir, `${logName}.log`));
}

export function startPeer(kubeconfig: string, l: ClientLimits, tmpdir: string, logDir: string, metricsAddr = "127.0.0.1:0"): Proc {
  return start(tool("kustomize-controller"), [`--metrics-addr=${metricsAddr}`, "--health-addr=127.0.0.1:0",
    "--enable-leader-election=false", "--watch-all-namespaces=true", `--concurrent=${l.concurrent}`, `--concurrent-ssa=${l.concurrentSsa}`,
    `--kube-api-qps=${l.qps}`, `--kube-api-burst=${l.burst}`, "--log-level=error"],
  { TMPDIR: tmpdir, RUNTIME_NAMESPACE: "bench", KUBECONFIG: kubeconfig }, path.join(logDir, "peer-kustomize-controller.log"));
}

/** VmHWM (peak resident set) of a live process, in MiB. */
export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) a live process has used. */
export function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export async function stop(p: Proc): Promise<void> {
  if (p.child.exitCode !== null) return;
  const done = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  const t = setTimeout(() => p.child.kill("SIGKILL"), 10_000);
  await done;
  clearTimeout(t);
}

type K = { metadata?: { generation?: number; name?: string }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } };

/** Resolves with the time (ms since epoch) when all `count` Kustomizations (or other `resource`s) in `namespace` are Ready. */
export async function waitAllReady(client: KubeClient, namespace: string, count: number, timeoutMs: number, proc: Proc | Proc[], onProgress?: (ready: number) => void,
  resource: ResourceRef = kustomizationsRes): Promise<number> {
  const ready = new Set<string>();
  let resolve!: (t: number) => void;
  const done = new Promise<number>((r) => { resolve = r; });
  const watcher = new Watcher<K>(client, {
    resource, namespace,
    onEvent: (ev) => {
      const k = ev.object;
      const ok = k.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") && k.status?.observedGeneration === k.metadata?.generation;
      if (ok) ready.add(k.metadata!.name!); else ready.delete(k.metadata!.name!);
      if (ready.size >= count) resolve(Date.now());
    },
  });
  watcher.start();
  const ticker = setInterval(() => onProgress?.(ready.size), 10_000);
  const timeout = new Promise<number>((_, rej) => setTimeout(() => rej(new Error(`timed out: ${ready.size}/${count} Ready after ${timeoutMs / 1000}s`)), timeoutMs).unref());
  const procs = Array.isArray(proc) ? proc : [proc];
  const exited = Promise.race(procs.map((p) => new Promise<number>((_, rej) => p.child.once("exit", (code) => rej(new Error(`the controller exited (${code}); see ${p.log}`))))));
  try {
    return await Promise.race([done, timeout, exited]);
  } finally {
    clearInterval(ticker);
    await watcher.stop();
  }
}
