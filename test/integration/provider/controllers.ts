/**
 * Our controllers as local processes against the test cluster (kwok only simulates the pods the
 * install's Deployments create, so nothing runs in them): `gitops controllers run`, started once
 * per test run with the controllers that exist, stopped at teardown.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { getCluster } from "../../support/cluster";
import { INSTANCE_LABEL } from "../../support/controllers";
import { onTeardown } from "../../support/teardown";
import { repoRoot } from "./pulumi-harness";
import { Cluster } from "../../../provider/cluster/client";
import { applyStaged } from "../../../provider/cluster/install-apply";
import { renderInstall } from "../../../provider/manifests/install";
import { allCrds } from "../../../controllers/api/registry";

export interface RunningControllers {
  names: string[];
  log(): string;
  stop(): Promise<void>;
}

/** Which of our controllers `gitops controllers run` knows today. */
export function knownControllers(): string[] {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return [...(require(path.join(repoRoot, "dist", "cli", "controllers-run.js")) as { KNOWN_CONTROLLERS: readonly string[] }).KNOWN_CONTROLLERS];
  } catch {
    return [];
  }
}

/** What `gitops controllers run` starts without --only: the controllers the install provides. */
function defaultControllers(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return [...(require(path.join(repoRoot, "dist", "cli", "controllers-run.js")) as { DEFAULT_CONTROLLERS: readonly string[] }).DEFAULT_CONTROLLERS];
}

export function hasControllers(...names: string[]): boolean {
  const k = knownControllers();
  return names.every((n) => k.includes(n));
}

/**
 * The CRDs the controllers watch, applied as the install does (they start only once those exist);
 * with `all`, also the opt-in controllers' CRDs, which the install does not render yet.
 */
export async function ensureCrds(kubeconfig?: string, all = false): Promise<void> {
  const kubeconfigPath = kubeconfig ?? (await getCluster()).kubeconfigPath;
  const cluster = new Cluster({ kubeconfig: kubeconfigPath });
  const installed = renderInstall({}).objects.filter((o) => o.kind === "CustomResourceDefinition");
  const extra = all ? allCrds().filter((c) => !installed.some((o) => o.metadata.name === c.metadata.name)) : [];
  const crds = [...installed, ...(extra as unknown as typeof installed)];
  await applyStaged(cluster, crds, Date.now() + 30_000);
  cluster.close();
}

/**
 * Starts `gitops controllers run` with every controller that exists, after making sure their
 * CRDs exist; stopped by the returned handle or at teardown. A bootstrap's destroy deletes the
 * CRDs, so tests start the controllers per test. `kubeconfig` (a path) runs them against another
 * cluster than the test run's. `only` names the controllers (default: those the install provides);
 * opt-in ones (source-watcher, image-reflector) get their CRDs applied too.
 */
export function startControllers(kubeconfig?: string, opts: { only?: string[] } = {}): Promise<RunningControllers> {
  return (async () => {
    // The controllers the install provides (the opt-in ones watch CRDs the install does not apply).
    const names = opts.only ?? defaultControllers();
    const optIn = names.some((n) => !defaultControllers().includes(n));
    await ensureCrds(kubeconfig, optIn);
    const kubeconfigPath = kubeconfig ?? (await getCluster()).kubeconfigPath;
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-provider-storage-"));
    let log = "";
    const child: ChildProcess = spawn(
      process.execPath,
      [path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", "--kubeconfig", kubeconfigPath, "--only", names.join(","),
        "--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--storage-adv-addr", "127.0.0.1:0",
        ...(names.includes("image-reflector") ? ["--image-storage-path", path.join(storage, "image-tags")] : []),
        // Objects labelled for another suite's in-process controllers are theirs alone.
        "--watch-label-selector", `!${INSTANCE_LABEL}`],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUNTIME_NAMESPACE: "flux-system" } },
    );
    const keep = (d: Buffer) => (log = (log + d.toString()).slice(-200_000));
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const stop = async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      fs.rmSync(storage, { recursive: true, force: true });
    };
    const untrack = onTeardown(stop);
    const deadline = Date.now() + 30_000;
    while (!/controllers started/.test(log)) {
      // A process that failed to start is stopped now, not left reconciling for the rest of the run.
      const failure = child.exitCode !== null ? `controllers exited with ${child.exitCode}` : Date.now() > deadline ? "controllers did not start in 30s" : undefined;
      if (failure) {
        untrack();
        await stop();
        throw new Error(`${failure}: ${log.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { names, log: () => log, stop: async () => { untrack(); await stop(); } };
  })();
}
