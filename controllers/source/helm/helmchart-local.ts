// HelmChart from a GitRepository or Bucket artifact: unpack the source tarball, find the chart at
// spec.chart (a directory, or a packaged .tgz), and package it with helm — with values files
// (relative to the source root) merged in, and version metadata from the reconcile strategy
// (`Revision`: first 12 hex of the source revision) and values files (the generation).
import * as fs from "node:fs";
import * as path from "node:path";
import { ReconcileStrategy } from "../../api/source/v1/helm-chart";
import { BuildReason, ChartBuildError, chartRoot, mergeValuesFiles, packageChart, readChartMetadata, withBuildMetadata, writeValues } from "./helm-chart-build";
import { BuildContext, ChartBuild, isCached, valuesMetadata } from "./helmchart-build-context";
import { untar } from "../oci/oci-untar";

export interface SourceArtifactRef { kind: string; namespace: string; name: string; path: string; revision: string }

/** Hex of a source revision (`main@sha1:<hex>`, `sha256:<hex>`), cut to 12 characters as Flux does. */
function revisionMetadata(revision: string): string {
  const last = revision.split("@").pop()!;
  return last.replace(/^[a-z0-9]+:/, "").slice(0, 12);
}

export async function buildFromSourceArtifact(b: BuildContext, src: SourceArtifactRef): Promise<ChartBuild> {
  const spec = b.obj.spec;
  const where = `the artifact of ${src.kind} '${src.namespace}/${src.name}' (revision '${src.revision}')`;
  const root = path.join(b.work, "source");
  try { await untar(b.storage.absolute(src.path), root); } catch (e) {
    throw new ChartBuildError(BuildReason.ChartPull, `artifact untar error: ${(e as Error).message}`, { cause: e });
  }
  const rel = spec.chart.replace(/^\.?\/+/, "");
  const chartPath = path.resolve(root, rel);
  if (chartPath !== root && !chartPath.startsWith(root + path.sep)) throw new ChartBuildError(BuildReason.ChartReference, `chart path '${spec.chart}' leaves ${where}`);
  if (!fs.existsSync(chartPath)) throw new ChartBuildError(BuildReason.ChartReference, `chart path '${spec.chart}' not found in ${where}`);
  const isDir = fs.statSync(chartPath).isDirectory();
  let chartDir = chartPath;
  if (!isDir) {
    if (!/\.tgz$|\.tar\.gz$/.test(chartPath)) throw new ChartBuildError(BuildReason.ChartReference, `'${spec.chart}' in ${where} is neither a chart directory nor a packaged chart (.tgz)`);
    const unpacked = path.join(b.work, "packaged");
    try { await untar(chartPath, unpacked); } catch (e) {
      throw new ChartBuildError(BuildReason.ChartReference, `cannot unpack '${spec.chart}': ${(e as Error).message}`, { cause: e });
    }
    chartDir = chartRoot(unpacked, `'${spec.chart}'`);
  }
  const meta = readChartMetadata(chartDir, `'${spec.chart}' of ${where}`);

  const metadata = [spec.reconcileStrategy === ReconcileStrategy.Revision ? revisionMetadata(src.revision) : undefined, valuesMetadata(b.obj)]
    .filter(Boolean).join(".");
  const version = metadata ? withBuildMetadata(meta.version, metadata) : meta.version;
  const requiresPackaging = isDir || !!metadata || !!spec.valuesFiles?.length;
  if (isCached(b, meta.name, version)) {
    return { name: meta.name, version, packaged: requiresPackaging, valuesFiles: b.obj.status?.observedValuesFiles ?? spec.valuesFiles ?? [] };
  }
  if (!requiresPackaging) return { name: meta.name, version, packaged: false, valuesFiles: [], file: chartPath };

  let used: string[] = [];
  if (spec.valuesFiles?.length) {
    const merged = mergeValuesFiles(root, spec.valuesFiles, !!spec.ignoreMissingValuesFiles);
    // Values files that were all missing (and ignored) leave the chart's values alone.
    if (merged.used.length) writeValues(chartDir, merged.values);
    used = merged.used;
  }
  const file = await packageChart(chartDir, meta, path.join(b.work, "out"), b.work, version);
  return { name: meta.name, version, packaged: true, valuesFiles: used, file };
}
