// The real helm v3 binary, run with a private HELM_*_HOME and the controller's kubeconfig.
// Only three verbs: upgrade --install, status (the stored release) and uninstall.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import type { HelmDeps } from "./deps";

/** Helm said no; `message` is helm's own error text without the `Error: ` prefix. */
export class HelmError extends Error {
  override readonly name = "HelmError";
}

/** A stored release as `helm status -o json` prints it (the fields we read). */
export interface StoredRelease {
  name: string;
  namespace: string;
  version: number;
  info: { status: string; first_deployed?: string; last_deployed?: string; deleted?: string; description?: string };
  chart: { metadata: { name: string; version: string; appVersion?: string } };
  config?: Record<string, unknown>;
  manifest?: string;
}

export interface UpgradeArgs {
  release: string;
  namespace: string;
  chartPath: string;
  valuesFile: string;
  timeout: string;
  createNamespace: boolean;
  wait: boolean;
  maxHistory?: number;
  labels?: Record<string, string>;
}

function run(deps: HelmDeps, args: string[], signal?: AbortSignal): Promise<string> {
  const home = path.join(deps.workDir, "helm-home");
  fs.mkdirSync(home, { recursive: true });
  const env = { ...process.env, KUBECONFIG: deps.kubeconfigPath, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
  return new Promise((resolve, reject) => {
    execFile(deps.helm, args, { env, signal, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const text = String(stderr).trim() || (err as Error).message;
      reject(new HelmError(text.replace(/^Error: /, "").trim(), { cause: err }));
    });
  });
}

export function upgradeInstall(deps: HelmDeps, a: UpgradeArgs, signal?: AbortSignal): Promise<string> {
  const args = ["upgrade", "--install", a.release, a.chartPath, "--namespace", a.namespace, "--values", a.valuesFile,
    "--reset-values", "--timeout", a.timeout];
  if (a.wait) args.push("--wait");
  if (a.createNamespace) args.push("--create-namespace");
  if (a.maxHistory !== undefined) args.push("--history-max", String(a.maxHistory));
  if (a.labels && Object.keys(a.labels).length) args.push("--labels", Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(","));
  return run(deps, args, signal);
}

/** The latest stored revision of a release; undefined when helm has none. */
export async function releaseStatus(deps: HelmDeps, release: string, namespace: string, signal?: AbortSignal): Promise<StoredRelease | undefined> {
  try {
    const r = JSON.parse(await run(deps, ["status", release, "--namespace", namespace, "--output", "json"], signal)) as StoredRelease;
    // `helm status` prints neither the chart nor (always) the values: ask `get metadata` and `get values`.
    const meta = JSON.parse(await run(deps, ["get", "metadata", release, "--namespace", namespace, "--output", "json"], signal)) as
      { chart: string; version: string; appVersion?: string };
    r.chart = { metadata: { name: meta.chart, version: String(meta.version), appVersion: meta.appVersion || undefined } };
    r.config = JSON.parse(await run(deps, ["get", "values", release, "--namespace", namespace, "--output", "json"], signal)) ?? {};
    return r;
  } catch (e) {
    if (e instanceof HelmError && /release: not found/.test(e.message)) return undefined;
    throw e;
  }
}

export async function uninstall(deps: HelmDeps, release: string, namespace: string, o: { keepHistory: boolean; timeout: string; wait: boolean }, signal?: AbortSignal): Promise<void> {
  const args = ["uninstall", release, "--namespace", namespace, "--timeout", o.timeout];
  if (o.keepHistory) args.push("--keep-history");
  if (o.wait) args.push("--wait");
  try {
    await run(deps, args, signal);
  } catch (e) {
    if (e instanceof HelmError && /not found/.test(e.message)) return;
    throw e;
  }
}

export interface ChartMetadata { name: string; version: string; appVersion?: string }

/** Chart.yaml of a packaged chart (`helm show chart`). */
export async function showChart(deps: HelmDeps, chartPath: string, signal?: AbortSignal): Promise<ChartMetadata> {
  const meta = parse(await run(deps, ["show", "chart", chartPath], signal)) as ChartMetadata;
  return { name: meta.name, version: String(meta.version), appVersion: meta.appVersion === undefined ? undefined : String(meta.appVersion) };
}
