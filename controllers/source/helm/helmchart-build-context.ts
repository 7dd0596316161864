// What the two HelmChart builders (from a HelmRepository, from a source artifact) share: the
// build context, the build result, the cache check and the result's summary line.
import { HelmChart } from "../../api/source/v1/helm-chart";
import { ReconcileContext } from "../../runtime/controller";
import { Storage } from "../../runtime/artifact-storage";

export interface BuildContext {
  obj: HelmChart;
  ctx: ReconcileContext<HelmChart>;
  storage: Storage;
  /** A private temp dir, removed after the reconcile. */
  work: string;
}

export interface ChartBuild {
  name: string;
  version: string;
  /** Packaged here (true) or stored as pulled (false). */
  packaged: boolean;
  /** Values files merged into the chart. */
  valuesFiles: string[];
  /** The archive to store; undefined when the current artifact is still right. */
  file?: string;
}

/** The stored artifact already is this chart name and version, built for this generation. */
export function isCached(b: BuildContext, name: string, version: string): boolean {
  const s = b.obj.status;
  return !!s?.artifact && b.storage.exists(s.artifact) && s.observedChartName === name && s.artifact.revision === version
    && s.observedGeneration === b.obj.metadata.generation;
}

/** Flux's build summary, used as Ready message and event. */
export function summary(build: ChartBuild): string {
  const action = build.packaged ? "packaged" : "pulled";
  const values = build.valuesFiles.length ? ` and merged values files [${build.valuesFiles.join(" ")}]` : "";
  return `${action} '${build.name}' chart with version '${build.version}'${values}`;
}

/** Version metadata from spec.valuesFiles: the generation, so consumers see every change. */
export function valuesMetadata(obj: HelmChart): string | undefined {
  return obj.spec.valuesFiles?.length ? String(obj.metadata.generation ?? 0) : undefined;
}
