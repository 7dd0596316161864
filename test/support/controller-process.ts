// `gitops controllers run` as a host process that a test can SIGKILL and start again with the
// same command line (the fault suite's "the pod's container died" and "two replicas").
// Output goes to a log file that survives the kills; stopped at teardown.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../cli/tools";
import { onTeardown } from "./teardown";

export interface ControllerProcess {
  /** Pid of the running process (undefined when killed). */
  readonly pid: number | undefined;
  readonly logPath: string;
  log(): string;
  /** Starts the process (again) and resolves once it logged "controllers started". */
  start(): Promise<void>;
  /** Starts it without waiting for the start-up line (a follower never logs it before leading). */
  spawn(): void;
  /** Sends SIGKILL and resolves when the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/**
 * `processGroup`: the process leads its own process group and kill/stop signal the whole group,
 * as a container's death takes every process in it (the helm children of helm-controller too;
 * a SIGKILL of the node process alone would let them finish the action).
 */
export function controllerProcess(args: string[], opts: { env?: NodeJS.ProcessEnv; name?: string; processGroup?: boolean } = {}): ControllerProcess {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-${opts.name ?? "controllers"}-`));
  const logPath = path.join(dir, "controllers.log");
  let child: ChildProcess | undefined;
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const log = () => { try { return fs.readFileSync(logPath, "utf8"); } catch { return ""; } };
  const doSpawn = () => {
    if (child && !exited(child)) throw new Error("controller process already running");
    const out = fs.openSync(logPath, "a");
    child = spawn(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "controllers", "run", ...args],
      { stdio: ["ignore", out, out], env: { ...process.env, RUNTIME_NAMESPACE: "flux-system", ...opts.env }, detached: opts.processGroup === true });
    fs.closeSync(out);
  };
  const waitExit = (c: ChildProcess, ms: number) => exited(c) ? Promise.resolve() : Promise.race([
    new Promise<void>((r) => c.once("exit", () => r())), new Promise<void>((r) => setTimeout(r, ms)),
  ]);
  const signal = (c: ChildProcess, sig: NodeJS.Signals) => {
    if (opts.processGroup && c.pid) {
      try { process.kill(-c.pid, sig); } catch { /* the group is gone */ }
    } else c.kill(sig);
  };
  const kill = async () => {
    const c = child;
    if (!c || exited(c)) return;
    signal(c, "SIGKILL");
    await waitExit(c, 10_000);
  };
  const stop = async () => {
    const c = child;
    if (!c || exited(c)) return;
    signal(c, "SIGTERM");
    await waitExit(c, 5000);
    await kill();
  };
  onTeardown(async () => { await stop(); fs.rmSync(dir, { recursive: true, force: true }); });
  return {
    get pid() { return child && !exited(child) ? child.pid : undefined; },
    logPath, log, kill, stop, spawn: doSpawn,
    async start() {
      const before = (log().match(/controllers started/g) ?? []).length;
      doSpawn();
      const c = child!;
      const deadline = Date.now() + 60_000;
      while ((log().match(/controllers started/g) ?? []).length <= before) {
        if (exited(c)) throw new Error(`controllers exited (${c.exitCode ?? c.signalCode}): ${log().slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`controllers did not start in 60 s: ${log().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
