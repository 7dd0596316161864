// The real helm v3 binary, run with a private HELM_*_HOME and the controller's kubeconfig,
// impersonating a ServiceAccount when asked (`--kube-as-user`). Verbs: upgrade --install,
// status (the stored release), rollback and uninstall.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { parse } from "yaml";
import type { KubeClient } from "../runtime/kube";
import { KubeApiError, KubeTransportError } from "../runtime/kube-errors";
import { readTar } from "../runtime/tar-reader";
import type { HelmDeps } from "./deps";
import { latestStoredRelease } from "./release-storage";

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
  /** Hooks with the state of their last run (helm test updates those of the `test` event). */
  hooks?: StoredHook[];
}

export interface StoredHook {
  name: string;
  kind?: string;
  events?: string[];
  last_run?: { started_at?: string; completed_at?: string; phase?: string };
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
  /** `--post-renderer <path> --post-renderer-args <arg>...` */
  postRenderer?: { path: string; args: string[] };
  /** `--reuse-values` instead of `--reset-values` (upgrade.preserveValues). */
  reuseValues?: boolean;
  /** The action's switches (action-flags.ts). */
  flags?: string[];
}

/** Who helm runs as: the controller's identity, or `asUser` (impersonated) when set. */
export interface HelmRun {
  deps: HelmDeps;
  /** `system:serviceaccount:<namespace>:<name>` of spec.serviceAccountName (or --default-service-account). */
  asUser?: string;
  signal?: AbortSignal;
  /** spec.kubeConfig: the remote cluster's kubeconfig file and a client for it (remote-cluster.ts). */
  remote?: { kubeconfigPath: string; client: KubeClient };
}

function run(h: HelmRun, helmArgs: string[]): Promise<string> {
  const { deps, signal } = h;
  const args = h.asUser ? [...helmArgs, "--kube-as-user", h.asUser] : helmArgs;
  const home = path.join(deps.workDir, "helm-home");
  fs.mkdirSync(home, { recursive: true });
  const env = { ...process.env, KUBECONFIG: h.remote?.kubeconfigPath ?? deps.kubeconfigPath, HELM_CACHE_HOME: home, HELM_CONFIG_HOME: home, HELM_DATA_HOME: home };
  return new Promise((resolve, reject) => {
    execFile(deps.helm, args, { env, signal, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const text = String(stderr).trim() || (err as Error).message;
      reject(new HelmError(text.replace(/^Error: /, "").trim(), { cause: err }));
    });
  });
}

export function upgradeInstall(h: HelmRun, a: UpgradeArgs): Promise<string> {
  const args = ["upgrade", "--install", a.release, a.chartPath, "--namespace", a.namespace, "--values", a.valuesFile,
    a.reuseValues ? "--reuse-values" : "--reset-values", "--timeout", a.timeout, ...(a.flags ?? [])];
  if (a.wait) args.push("--wait");
  if (a.createNamespace) args.push("--create-namespace");
  if (a.maxHistory !== undefined) args.push("--history-max", String(a.maxHistory));
  if (a.postRenderer) {
    args.push("--post-renderer", a.postRenderer.path);
    for (const x of a.postRenderer.args) args.push("--post-renderer-args", x);
  }
  if (a.labels && Object.keys(a.labels).length) args.push("--labels", Object.entries(a.labels).map(([k, v]) => `${k}=${v}`).join(","));
  return run(h, args);
}

/**
 * The latest stored revision of a release in the storage `namespace`; undefined when helm has
 * none. `releaseNamespace` is where its objects go, when not the storage namespace (see
 * storage-namespace.ts): helm reports the storage namespace, Flux's snapshots the release's.
 */
export async function releaseStatus(h: HelmRun, release: string, namespace: string, releaseNamespace = namespace): Promise<StoredRelease | undefined> {
  // The storage Secrets read directly, as the identity helm runs as (release-storage.ts); a
  // cluster that does not answer falls back to helm itself, whose message users know.
  const client = h.remote?.client ?? h.deps.storageClient?.(h.asUser);
  if (client) {
    try {
      const r = await latestStoredRelease(client, release, namespace, h.signal);
      if (r) r.namespace = releaseNamespace;
      return r;
    } catch (e) {
      if (e instanceof KubeApiError) throw new HelmError(`query: failed to query with labels: ${e.status?.message ?? e.message}`, { cause: e });
      if (!(e instanceof KubeTransportError)) throw e;
    }
  }
  try {
    const r = JSON.parse(await run(h, ["status", release, "--namespace", namespace, "--output", "json"])) as StoredRelease;
    r.namespace = releaseNamespace;
    // `helm status` prints neither the chart nor (always) the values: ask `get metadata` and `get values`.
    const meta = JSON.parse(await run(h, ["get", "metadata", release, "--namespace", namespace, "--output", "json"])) as
      { chart: string; version: string; appVersion?: string };
    r.chart = { metadata: { name: meta.chart, version: String(meta.version), appVersion: meta.appVersion || undefined } };
    r.config = JSON.parse(await run(h, ["get", "values", release, "--namespace", namespace, "--output", "json"])) ?? {};
    return r;
  } catch (e) {
    if (e instanceof HelmError && /release: not found/.test(e.message)) return undefined;
    throw e;
  }
}

export async function uninstall(h: HelmRun, release: string, namespace: string, o: { keepHistory: boolean; timeout: string; wait: boolean; flags?: string[] }): Promise<void> {
  const args = ["uninstall", release, "--namespace", namespace, "--timeout", o.timeout, ...(o.flags ?? [])];
  if (o.keepHistory) args.push("--keep-history");
  if (o.wait) args.push("--wait");
  try {
    await run(h, args);
  } catch (e) {
    // Nothing to uninstall: no such release, or a name Helm refuses (so it was never stored;
    // an install under it failed on that name, and retrying the uninstall would block deletion forever).
    if (e instanceof HelmError && /not found|release name is invalid/i.test(e.message)) return;
    throw e;
  }
}

/** `helm rollback <release> <revision>`: a new revision with the chart and values of `revision`. */
export async function rollback(h: HelmRun, release: string, namespace: string, revision: number, o: { timeout: string; wait: boolean; flags?: string[] }): Promise<void> {
  const args = ["rollback", release, String(revision), "--namespace", namespace, "--timeout", o.timeout, ...(o.flags ?? [])];
  if (o.wait) args.push("--wait");
  await run(h, args);
}

/**
 * `helm test`: runs the release's test hooks, `filters` as `--filter name=<n>` (run only those)
 * or `--filter '!name=<n>'` (skip). Helm records each hook's last run in the release either way.
 */
export async function test(h: HelmRun, release: string, namespace: string, o: { timeout: string; filters?: Array<{ name: string; exclude?: boolean }> }): Promise<void> {
  const args = ["test", release, "--namespace", namespace, "--timeout", o.timeout];
  for (const f of o.filters ?? []) args.push("--filter", `${f.exclude ? "!" : ""}name=${f.name}`);
  await run(h, args);
}

/** `helm template`: the manifests helm would release, hooks and all, without the cluster. */
export function template(h: HelmRun, a: { release: string; namespace: string; chartPath: string; valuesFile: string; isUpgrade: boolean }): Promise<string> {
  const args = ["template", a.release, a.chartPath, "--namespace", a.namespace, "--values", a.valuesFile, "--skip-tests"];
  if (a.isUpgrade) args.push("--is-upgrade");
  return run({ deps: h.deps, signal: h.signal }, args);
}

export interface ChartMetadata { name: string; version: string; appVersion?: string }

const chartMetadataCache = new Map<string, ChartMetadata>();

/**
 * Chart.yaml of a packaged chart (what `helm show chart` prints), read in-process: a helm
 * process per reconcile costs more than the rest of an in-sync reconcile. Fetched charts are
 * stored by digest, so a path's metadata never changes and is cached.
 */
export async function showChart(_deps: HelmDeps, chartPath: string, _signal?: AbortSignal): Promise<ChartMetadata> {
  const cached = chartMetadataCache.get(chartPath);
  if (cached) return cached;
  const meta = readChartYaml(chartPath);
  if (chartMetadataCache.size >= 256) chartMetadataCache.delete(chartMetadataCache.keys().next().value!);
  chartMetadataCache.set(chartPath, meta);
  return meta;
}

function readChartYaml(chartPath: string): ChartMetadata {
  let text: string | undefined;
  if (fs.statSync(chartPath).isDirectory()) {
    const file = path.join(chartPath, "Chart.yaml");
    if (fs.existsSync(file)) text = fs.readFileSync(file, "utf8");
  } else {
    let files;
    try {
      files = readTar(zlib.gunzipSync(fs.readFileSync(chartPath)));
    } catch (e) {
      throw new HelmError(`${path.basename(chartPath)} is not a packaged chart (a gzipped tar): ${(e as Error).message}`);
    }
    // Chart.yaml of the chart's top directory, not of a subchart under charts/
    const top = [...files.keys()].find((f) => /^[^/]+\/Chart\.yaml$/.test(f));
    if (top) text = files.get(top)!.toString("utf8");
  }
  if (text === undefined) throw new HelmError("Chart.yaml file is missing");
  let meta: Partial<Record<string, unknown>>;
  try {
    meta = (parse(text, { uniqueKeys: false }) ?? {}) as Record<string, unknown>; // helm accepts repeated keys
  } catch (e) {
    throw new HelmError(`cannot load Chart.yaml: ${(e as Error).message}`);
  }
  if (!meta.name) throw new HelmError("validation: chart.metadata.name is required");
  if (meta.version === undefined || meta.version === null || meta.version === "") throw new HelmError("validation: chart.metadata.version is required");
  return { name: String(meta.name), version: String(meta.version), appVersion: meta.appVersion === undefined || meta.appVersion === null ? undefined : String(meta.appVersion) };
}

/** `helm get manifest`: the objects (no hooks) of the latest stored revision. */
export function getManifest(h: HelmRun, release: string, namespace: string): Promise<string> {
  return run(h, ["get", "manifest", release, "--namespace", namespace]);
}
