// Shared setup of the property tests: our controllers as a real child process (`gitops
// controllers run`, as in a pod) watching only objects labelled for this suite, with stdout
// and stderr kept apart so a test can tell a crash, an unhandled rejection or a Node warning
// from ordinary logs; and the fast-check knobs (runs, seed) read from the environment.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { eventually, getCluster, randomSuffix } from "../support/cluster";
import { INSTANCE_LABEL } from "../support/controllers";
import { onTeardown } from "../support/teardown";
import { ensureCrds } from "../integration/provider/controllers";
import { KubeClient, ResourceRef } from "../../controllers/runtime/kube";
import { KubeObject } from "../../controllers/runtime/keys";
import { isInvalid } from "../../controllers/runtime/kube-errors";

const repoRoot = path.resolve(__dirname, "..", "..", "..");

export interface ControllerProcess {
  labels: Record<string, string>;
  client: KubeClient;
  stdout(): string;
  stderr(): string;
  /** Exit code or signal when the process has died, undefined while it runs. */
  exited(): string | undefined;
  /** Throws when the process died or wrote anything but JSON log lines to stderr (a crash, a rejection, a Node warning). */
  assertHealthy(): void;
  stop(): Promise<void>;
}

/** Starts `gitops controllers run` for objects labelled `gitops-test/instance=<fresh>`, with `args` added. */
export async function startControllerProcess(o: { args?: string[]; logLevel?: string; only?: string[] } = {}): Promise<ControllerProcess> {
  await ensureCrds();
  const { kubeconfigPath, kc } = await getCluster();
  const instance = `prop-${randomSuffix(8)}`;
  const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-prop-storage-"));
  let out = "", err = "";
  const child: ChildProcess = spawn(process.execPath, [
    path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfigPath,
    "--only", (o.only ?? ["source", "kustomize", "helm", "notification"]).join(","),
    "--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0",
    "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`, "--log-level", o.logLevel ?? "info", "--requeue-dependency", "2s",
    ...(o.args ?? []),
  ], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUNTIME_NAMESPACE: "flux-system" } });
  // Whole logs are kept: the secrets test greps all of them.
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  let exit: string | undefined;
  child.once("exit", (code, signal) => (exit = `exit code ${code} signal ${signal}`));
  const stop = async () => {
    if (exit === undefined) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (exit === undefined) child.kill("SIGKILL");
    }
    fs.rmSync(storage, { recursive: true, force: true });
  };
  const untrack = onTeardown(stop);
  const deadline = Date.now() + 30_000;
  while (!/controllers started/.test(out + err)) {
    if (exit !== undefined || Date.now() > deadline) {
      untrack();
      await stop();
      throw new Error(`controllers did not start (${exit ?? "30s"}): ${(out + err).slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const stderrNoise = () => err.split("\n").filter((l) => l.trim() && !isJsonLine(l));
  return {
    labels: { [INSTANCE_LABEL]: instance },
    client: KubeClient.fromKubeConfig(kc, { qps: 100, burst: 200 }),
    stdout: () => out,
    stderr: () => err,
    exited: () => exit,
    assertHealthy() {
      if (exit !== undefined) throw new Error(`controller process died (${exit}): ${(out + err).slice(-3000)}`);
      const noise = stderrNoise();
      if (noise.length) throw new Error(`controller process wrote to stderr:\n${noise.slice(0, 20).join("\n")}`);
    },
    stop: async () => { untrack(); await stop(); },
  };
}

function isJsonLine(l: string): boolean {
  try { return typeof JSON.parse(l) === "object"; } catch { return false; }
}

/** fast-check parameters: GITOPS_PROPERTY_RUNS (per property) and GITOPS_PROPERTY_SEED; the seed is printed on failure. */
export function fcParams(defaultRuns: number): { numRuns: number; seed: number; endOnFailure: true } {
  const numRuns = Number(process.env.GITOPS_PROPERTY_RUNS ?? defaultRuns);
  const seed = process.env.GITOPS_PROPERTY_SEED ? Number(process.env.GITOPS_PROPERTY_SEED) : Date.now() ^ (Math.random() * 0x100000000);
  return { numRuns, seed, endOnFailure: true };
}

/** Counts what the property tests tried, printed at the end of a suite and copied into docs/reliability.md. */
export const tally = { inputs: 0, rejectedBySchema: 0, answeredFalse: 0, answeredTrue: 0, crashes: 0 };

type Cond = { type: string; status: string; reason?: string; message?: string; observedGeneration?: number };
type WithStatus = KubeObject & { status?: { observedGeneration?: number; conditions?: Cond[] } };

export type Outcome = { kind: "rejected"; message: string } | { kind: "answered"; ready: Cond; stalled?: Cond; obj: WithStatus };

/**
 * Writes `obj` (create, or `write` when given) and waits for the controller's answer: the API
 * server's 422, or a Ready condition for the object's current generation with a message.
 */
export async function writeAndWait(client: KubeClient, res: ResourceRef, obj: KubeObject, write?: () => Promise<unknown>, timeoutMs = 30_000): Promise<Outcome> {
  tally.inputs++;
  let written: KubeObject;
  try {
    written = (await (write ? write() : client.create(res, obj))) as KubeObject;
  } catch (e) {
    if (isInvalid(e)) { tally.rejectedBySchema++; return { kind: "rejected", message: (e as Error).message }; }
    throw e;
  }
  const key = { namespace: obj.metadata!.namespace!, name: written.metadata!.name! };
  let last: WithStatus | undefined;
  const obs = await eventually(async () => {
    last = await client.get<WithStatus>(res, key);
    const gen = last?.metadata?.generation;
    const ready = last?.status?.conditions?.find((c) => c.type === "Ready");
    const observed = ready?.observedGeneration ?? last?.status?.observedGeneration;
    if (!ready || observed !== gen || ready.status === "Unknown") return undefined;
    return { kind: "answered" as const, ready, stalled: last!.status!.conditions!.find((c) => c.type === "Stalled" && c.status === "True"), obj: last! };
  }, { timeoutMs, intervalMs: 200, what: `${res.kind} ${key.namespace}/${key.name} answered (Ready True/False at its generation)` })
    .catch((e) => { throw new Error(`${(e as Error).message}; input ${JSON.stringify((obj as { spec?: unknown }).spec ?? obj)}; last status ${JSON.stringify(last?.status)}`); });
  if (obs.ready.status === "False") tally.answeredFalse++; else tally.answeredTrue++;
  return obs;
}
