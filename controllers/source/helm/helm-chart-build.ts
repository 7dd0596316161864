// Building a chart artifact with the real helm binary: read and check Chart.yaml, merge
// spec.valuesFiles into the chart's values.yaml (deep merge of maps, later files win), set
// version metadata, build missing dependencies and `helm package`. Errors carry Flux's build
// error reasons, which decide the condition and whether retrying can help.
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import * as semver from "semver";
import { parse, stringify } from "yaml";
import { tool } from "../../../cli/tools";
import { timerMs } from "../../runtime/clock";

const exec = promisify(execFile);

/** Flux's chart build error reasons: CamelCase reason, message prefix, whether retrying can help. */
export const BuildReason = {
  ChartReference: { reason: "InvalidChartReference", summary: "invalid chart reference", persistent: true, build: false },
  ChartPull: { reason: "ChartPullError", summary: "chart pull error", persistent: false, build: false },
  MetadataPatch: { reason: "MetadataPatchError", summary: "chart metadata patch error", persistent: true, build: true },
  ValuesFiles: { reason: "ValuesFilesError", summary: "values files merge error", persistent: true, build: true },
  Dependency: { reason: "DependencyBuildError", summary: "dependency build error", persistent: false, build: true },
  Package: { reason: "ChartPackageError", summary: "chart package error", persistent: false, build: true },
} as const;
export type BuildReason = (typeof BuildReason)[keyof typeof BuildReason];

export class ChartBuildError extends Error {
  constructor(readonly why: BuildReason, detail: string, options?: ErrorOptions) { super(`${why.summary}: ${detail}`, options); }
}

export interface ChartMetadata { apiVersion: string; name: string; version: string; dependencies?: Array<{ name: string; alias?: string }> }

/** Chart.yaml of a chart directory, checked as Helm checks it. */
export function readChartMetadata(dir: string, where: string): ChartMetadata {
  const file = path.join(dir, "Chart.yaml");
  if (!fs.existsSync(file)) throw new ChartBuildError(BuildReason.ChartReference, `no Chart.yaml in ${where}: spec.chart must be the path of a chart directory or a packaged chart (.tgz)`);
  let meta: Partial<ChartMetadata>;
  try { meta = (parse(fs.readFileSync(file, "utf8")) ?? {}) as Partial<ChartMetadata>; } catch (e) {
    throw new ChartBuildError(BuildReason.ChartReference, `cannot parse Chart.yaml in ${where}: ${(e as Error).message.split("\n")[0]}`, { cause: e });
  }
  const invalid = (m: string) => new ChartBuildError(BuildReason.ChartReference, `validation: ${m} (Chart.yaml in ${where})`);
  if (!meta.apiVersion) throw invalid("chart.metadata.apiVersion is required");
  if (!meta.name) throw invalid("chart.metadata.name is required");
  if (meta.version === undefined || meta.version === null || meta.version === "") throw invalid("chart.metadata.version is required");
  if (!semver.valid(String(meta.version))) throw invalid(`chart.metadata.version "${meta.version}" is invalid`);
  return { ...meta, version: String(meta.version) } as ChartMetadata;
}

/** `version` with its build metadata replaced by `metadata` (Flux's VersionMetadata). */
export function withBuildMetadata(version: string, metadata: string): string {
  const v = semver.parse(version);
  if (!v) throw new ChartBuildError(BuildReason.MetadataPatch, `failed to parse version from chart metadata as SemVer: ${version}`);
  if (!/^[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*$/.test(metadata)) throw new ChartBuildError(BuildReason.MetadataPatch, `failed to set SemVer metadata on chart version: invalid metadata '${metadata}'`);
  return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length ? `-${v.prerelease.join(".")}` : ""}+${metadata}`;
}

type Values = Record<string, unknown>;
const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

function mergeMaps(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(v) && isMap(out[k]) ? mergeMaps(out[k] as Values, v) : v;
  return out;
}

/** Merges the values files (paths relative to `baseDir`) in order; returns the values and the files used. */
export function mergeValuesFiles(baseDir: string, files: string[], ignoreMissing: boolean): { values: Values; used: string[] } {
  let values: Values = {};
  const used: string[] = [];
  const root = path.resolve(baseDir);
  for (const f of files) {
    const abs = path.resolve(root, f.replace(/^\/+/, ""));
    if (abs !== root && !abs.startsWith(root + path.sep)) throw new ChartBuildError(BuildReason.ValuesFiles, `values file path '${f}' leaves the ${baseDir === root ? "source" : "chart"}`);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isFile()) {
      if (ignoreMissing) continue;
      throw new ChartBuildError(BuildReason.ValuesFiles, `no values file found at path '${path.relative(root, abs)}' (reference '${f}'): fix spec.valuesFiles or set spec.ignoreMissingValuesFiles`);
    }
    let doc: unknown;
    try { doc = parse(fs.readFileSync(abs, "utf8")) ?? {}; } catch (e) {
      throw new ChartBuildError(BuildReason.ValuesFiles, `unmarshaling values from '${f}' failed: ${(e as Error).message.split("\n")[0]}`, { cause: e });
    }
    if (!isMap(doc)) throw new ChartBuildError(BuildReason.ValuesFiles, `unmarshaling values from '${f}' failed: not a YAML map`);
    values = mergeMaps(values, doc);
    used.push(f);
  }
  return { values, used };
}

/** Replaces the chart's values.yaml with `values`. */
export function writeValues(chartDir: string, values: Values): void {
  fs.writeFileSync(path.join(chartDir, "values.yaml"), stringify(values));
}

/** Runs helm with its config, cache and data in `home` (no user repositories or plugins). */
async function helm(args: string[], home: string, timeoutMs: number): Promise<string> {
  const env = { PATH: process.env.PATH, HOME: home, HELM_CONFIG_HOME: path.join(home, "config"), HELM_CACHE_HOME: path.join(home, "cache"), HELM_DATA_HOME: path.join(home, "data"), LC_ALL: "C" };
  try {
    return (await exec(tool("helm"), args, { env, timeout: timerMs(timeoutMs), maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? "").split("\n").map((l) => l.replace(/^Error: /, "").trim()).filter(Boolean).join("; ");
    throw new Error(stderr || (e as Error).message, { cause: e });
  }
}

/** Dependencies listed in Chart.yaml that charts/ does not hold yet. */
function missingDependencies(chartDir: string, meta: ChartMetadata): string[] {
  const charts = path.join(chartDir, "charts");
  const present = fs.existsSync(charts) ? fs.readdirSync(charts) : [];
  return (meta.dependencies ?? []).map((d) => d.name).filter((n) => !present.some((p) => p === n || (p.startsWith(`${n}-`) && p.endsWith(".tgz"))));
}

/** `helm package` of `chartDir` into `outDir` (version overridden when given); returns the .tgz path. */
export async function packageChart(chartDir: string, meta: ChartMetadata, outDir: string, work: string, version?: string, timeoutMs = 120_000): Promise<string> {
  const home = fs.mkdtempSync(path.join(work, "helm-home-"));
  const missing = missingDependencies(chartDir, meta);
  if (missing.length) {
    try { await helm(["dependency", "build", chartDir], home, timeoutMs); } catch (e) {
      throw new ChartBuildError(BuildReason.Dependency, `failed to build dependencies ${missing.join(", ")}: ${(e as Error).message}`, { cause: e });
    }
  }
  fs.mkdirSync(outDir, { recursive: true });
  let out: string;
  try { out = await helm(["package", chartDir, "--destination", outDir, ...(version ? ["--version", version] : [])], home, timeoutMs); } catch (e) {
    throw new ChartBuildError(BuildReason.Package, (e as Error).message, { cause: e });
  }
  const m = /saved it to: (.+\.tgz)\s*$/m.exec(out);
  const file = m?.[1] ?? path.join(outDir, `${meta.name}-${version ?? meta.version}.tgz`);
  if (!fs.existsSync(file)) throw new ChartBuildError(BuildReason.Package, `helm package wrote no archive (${out.trim()})`);
  return file;
}

/** The single top-level chart directory of an unpacked chart archive. */
export function chartRoot(unpacked: string, where: string): string {
  const dirs = fs.readdirSync(unpacked, { withFileTypes: true }).filter((e) => e.isDirectory());
  const withChart = dirs.filter((d) => fs.existsSync(path.join(unpacked, d.name, "Chart.yaml")));
  if (withChart.length !== 1) throw new ChartBuildError(BuildReason.Package, `${where} is not a chart archive: expected one directory with a Chart.yaml at its top`);
  return path.join(unpacked, withChart[0].name);
}
