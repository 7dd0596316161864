/**
 * Real `pulumi` for tests: the CLI built by scripts/setup-tools.sh, a per-run PULUMI_HOME (with
 * the kubernetes plugin installed from the cached binary when it is built), a local file backend,
 * no update checks and no plugin downloads. Stacks run inline programs through the automation
 * API; the gitops plugin is found through the project's `plugins.providers` entry, exactly as a
 * user's Pulumi.yaml would name it.
 */
import { LocalWorkspace, PulumiCommand, type Stack, type InlineProgramArgs, type OutputMap } from "@pulumi/pulumi/automation";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { onTeardown } from "../../support/teardown";

const tools = process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools");
export const repoRoot = path.resolve(__dirname, "..", "..", "..", "..");
export const pluginDir = path.join(repoRoot, "provider", "bin");
export const KubernetesPluginVersion = "4.25.0";

export interface PulumiRun {
  root: string;
  home: string;
  backend: string;
  cmd: PulumiCommand;
  env: Record<string, string>;
  hasKubernetesPlugin: boolean;
}

let run: Promise<PulumiRun> | undefined;

/** Compiles the examples once (examples/tsconfig.json → dist/examples). */
let compiled = false;
export function compileExamples(): void {
  if (compiled) return;
  execFileSync(process.execPath, [path.join(repoRoot, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(repoRoot, "examples", "tsconfig.json")], { stdio: "pipe" });
  compiled = true;
}

/** The pulumi binary, or a clear message of how to get it. */
export function pulumiBinary(): string {
  const bin = path.join(tools, "bin", "pulumi");
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run 'bash scripts/setup-tools.sh pulumi pulumi_host pulumi_kubernetes'`);
  return bin;
}

/** One PULUMI_HOME and state directory per test run, removed at teardown. */
export function pulumiRun(): Promise<PulumiRun> {
  run ??= (async () => {
    pulumiBinary();
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-pulumi-"));
    const home = path.join(root, "home");
    const backend = path.join(root, "state");
    fs.mkdirSync(home);
    fs.mkdirSync(backend);
    onTeardown(() => {
      if (process.env.GITOPS_KEEP_PROVIDER_LOG) fs.copyFileSync(path.join(root, "provider.log"), process.env.GITOPS_KEEP_PROVIDER_LOG);
      fs.rmSync(root, { recursive: true, force: true });
    });
    const env: Record<string, string> = {
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${backend}`,
      PULUMI_CONFIG_PASSPHRASE: "test",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      GITOPS_PROVIDER_LOG: path.join(root, "provider.log"),
      // The plugin launcher runs `node`: the same (22+) node as this process.
      PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}`,
    };
    const k8sBin = [path.join(tools, "plugins", "pulumi-resource-kubernetes"), path.join(tools, "bin", "pulumi-resource-kubernetes")].find((f) => fs.existsSync(f));
    if (k8sBin) {
      execFileSync(pulumiBinary(), ["plugin", "install", "resource", "kubernetes", KubernetesPluginVersion, "--file", k8sBin], { env: { ...process.env, ...env }, stdio: "pipe" });
    }
    const cmd = await PulumiCommand.get({ root: tools, skipVersionCheck: false });
    return { root, home, backend, cmd, env, hasKubernetesPlugin: !!k8sBin };
  })();
  return run;
}

export interface TestStack {
  stack: Stack;
  name: string;
  /** Runs `pulumi up`; returns outputs as plain values and the summary counts. */
  up(opts?: { refresh?: boolean }): Promise<{ outputs: Record<string, unknown>; changes: Record<string, number>; ms: number; stdout: string }>;
  preview(opts?: { expectNoChanges?: boolean; refresh?: boolean }): Promise<{ changes: Record<string, number>; stdout: string }>;
  refresh(): Promise<void>;
  destroy(): Promise<{ changes: Record<string, number>; stdout: string }>;
}

/** A stack for an inline program in its own project; destroyed and removed at teardown unless it already was. */
export async function inlineStack(projectName: string, program: InlineProgramArgs["program"], opts: { stackName?: string; keep?: boolean; env?: Record<string, string> } = {}): Promise<TestStack> {
  const r = await pulumiRun();
  const stackName = opts.stackName ?? `t${randomBytes(3).toString("hex")}`;
  const workDir = fs.mkdtempSync(path.join(r.root, `${projectName}-`));
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    {
      workDir,
      pulumiCommand: r.cmd,
      pulumiHome: r.home,
      envVars: { ...r.env, ...opts.env },
      secretsProvider: "passphrase",
      projectSettings: {
        name: projectName,
        runtime: "nodejs",
        backend: { url: `file://${r.backend}` },
        // Not in ProjectSettings' type, but written to Pulumi.yaml as given: how the engine finds the plugin.
        ...({ plugins: { providers: [{ name: "gitops", path: pluginDir }] } } as object),
      },
    },
  );
  let destroyed = false;
  // The automation API runs every inline program in this one process; under load its gRPC link
  // to the engine occasionally fails before the program registered anything ("14 UNAVAILABLE: No
  // connection established", with an empty resource list). That is the SDK's transport, not the
  // code under test: such an operation is run once more, and said so in the log.
  const once = async <T>(op: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (!/14 UNAVAILABLE: No connection established/.test(msg)) throw e;
      console.error(`[pulumi-harness] ${op} of ${projectName}/${stackName}: the automation API lost its engine connection (${msg.split("\n").find((l) => l.includes("UNAVAILABLE"))?.trim()}); running it again`);
      return run();
    }
  };
  const outputsOf = (o: OutputMap) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v.value]));
  const ts: TestStack = {
    stack,
    name: stackName,
    async up(o = {}) {
      const t0 = Date.now();
      let stdout = "";
      const res = await once("up", () => { stdout = ""; return stack.up({ refresh: o.refresh, onOutput: (s) => (stdout += s) }); });
      destroyed = false;
      return { outputs: outputsOf(res.outputs), changes: (res.summary.resourceChanges ?? {}) as Record<string, number>, ms: Date.now() - t0, stdout };
    },
    async preview(o = {}) {
      let stdout = "";
      const res = await once("preview", () => { stdout = ""; return stack.preview({ expectNoChanges: o.expectNoChanges, refresh: o.refresh, onOutput: (s) => (stdout += s), diff: true }); });
      return { changes: res.changeSummary as Record<string, number>, stdout };
    },
    async refresh() {
      await stack.refresh();
    },
    async destroy() {
      let stdout = "";
      const res = await once("destroy", () => { stdout = ""; return stack.destroy({ onOutput: (s) => (stdout += s) }); });
      destroyed = true;
      return { changes: (res.summary.resourceChanges ?? {}) as Record<string, number>, stdout };
    },
  };
  if (!opts.keep) {
    onTeardown(async () => {
      if (!destroyed) await stack.destroy().catch(() => undefined);
      await stack.workspace.removeStack(stackName, { force: true }).catch(() => undefined);
    });
  }
  return ts;
}

/** Total number of non-"same" operations in a change summary. */
export function changed(changes: Record<string, number>): number {
  return Object.entries(changes).filter(([k]) => k !== "same").reduce((n, [, v]) => n + v, 0);
}

let sdk: Promise<string> | undefined;

/**
 * The generated TypeScript SDK (sdk/nodejs), compiled once per run into the run's directory
 * (resolving @pulumi/pulumi from the repository's node_modules); returns its index.js path.
 * Its components are remote: constructed by the plugin through the engine.
 */
export function generatedSdk(): Promise<string> {
  sdk ??= (async () => {
    const r = await pulumiRun();
    const out = path.join(r.root, "sdk-nodejs");
    fs.mkdirSync(out, { recursive: true });
    if (!fs.existsSync(path.join(r.root, "node_modules"))) fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(r.root, "node_modules"));
    const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "-p", path.join(repoRoot, "sdk", "nodejs", "tsconfig.json"), "--outDir", out, "--declaration", "false", "--declarationMap", "false"], { stdio: "pipe" });
    fs.copyFileSync(path.join(repoRoot, "sdk", "nodejs", "package.json"), path.join(out, "package.json"));
    return path.join(out, "index.js");
  })();
  return sdk;
}
