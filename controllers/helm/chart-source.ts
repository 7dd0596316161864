// Where a release's chart comes from. spec.chart: the HelmChart `<namespace>-<name>` created
// (server-side applied) from the template in the source's namespace, as Flux does.
// spec.chartRef: an existing HelmChart, OCIRepository or (with the ExternalArtifact feature gate)
// ExternalArtifact. The source must be Ready for its current generation and hold an artifact; an
// ExternalArtifact, written by another controller, only needs the artifact (as in Flux). Its
// tarball is the chart as helm loads a packaged one: the chart's files under one top directory
// (an ArtifactGenerator copying `@src/charts/app/**` to `@artifact/app/`).
import type { HelmRelease } from "../api/helm/v2/helm-release";
import { ChartRefKind } from "../api/helm/v2/helm-release";
import { FieldManager } from "../api/meta";
import { HelmChartNames } from "../api/source/v1/helm-chart";
import { OCIRepositoryNames } from "../api/source/v1/oci-repository";
import { ExternalArtifactNames } from "../api/source/v1/external-artifact";
import { getCondition } from "../runtime/conditions";
import { KubeClient, ResourceRef } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import type { ChartArtifact } from "./chart-fetcher";

const ref = (n: { group: string; version: string; plural: string; kind: string }): ResourceRef => ({ group: n.group, version: n.version, plural: n.plural, kind: n.kind });
export const chartSourceResources: Record<string, ResourceRef> = {
  [ChartRefKind.HelmChart]: ref(HelmChartNames),
  [ChartRefKind.OCIRepository]: ref(OCIRepositoryNames),
  [ChartRefKind.ExternalArtifact]: ref(ExternalArtifactNames),
};

export type ChartSourceObject = KubeObject & {
  status?: { artifact?: ChartArtifact; observedGeneration?: number; conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
};

/** A configuration problem no retry fixes (a stall). */
export class InvalidChartSourceError extends Error {
  override readonly name = "InvalidChartSourceError";
}

/** The source exists but has no usable artifact yet (a requeue). */
export class ChartSourceNotReadyError extends Error {
  override readonly name = "ChartSourceNotReadyError";
}

export interface ChartSourceRef { kind: string; namespace: string; name: string }

/** Name and namespace of the HelmChart made from spec.chart. */
export function helmChartRefOf(hr: HelmRelease): ChartSourceRef {
  const ns = hr.metadata.namespace!;
  return { kind: ChartRefKind.HelmChart, namespace: hr.spec.chart?.spec.sourceRef.namespace || ns, name: `${ns}-${hr.metadata.name}` };
}

export function chartSourceRefOf(hr: HelmRelease): ChartSourceRef {
  if (hr.spec.chart) return helmChartRefOf(hr);
  const r = hr.spec.chartRef;
  if (!r) throw new InvalidChartSourceError("either chart or chartRef must be set");
  if (!chartSourceResources[r.kind]) throw new InvalidChartSourceError(`unsupported chartRef kind '${r.kind}'`);
  return { kind: r.kind, namespace: r.namespace || hr.metadata.namespace!, name: r.name };
}

/** Server-side applies the HelmChart of spec.chart (chart, version, sourceRef, ...). */
export async function applyHelmChart(hr: HelmRelease, client: KubeClient, noCrossNamespaceRefs: boolean, signal?: AbortSignal): Promise<void> {
  const t = hr.spec.chart!;
  const target = helmChartRefOf(hr);
  if (noCrossNamespaceRefs && target.namespace !== hr.metadata.namespace) {
    throw new InvalidChartSourceError(`cross-namespace references are not allowed: source namespace '${target.namespace}'`);
  }
  const s = t.spec;
  const spec: Record<string, unknown> = {
    chart: s.chart,
    version: s.version || "*",
    sourceRef: { kind: s.sourceRef.kind, name: s.sourceRef.name },
    interval: s.interval || hr.spec.interval,
    reconcileStrategy: s.reconcileStrategy || "ChartVersion",
  };
  if (s.valuesFiles?.length) spec.valuesFiles = s.valuesFiles;
  if (s.ignoreMissingValuesFiles) spec.ignoreMissingValuesFiles = true;
  if (s.verify) spec.verify = s.verify;
  const obj = {
    apiVersion: HelmChartNames.apiVersion, kind: HelmChartNames.kind,
    metadata: { name: target.name, namespace: target.namespace, labels: t.metadata?.labels, annotations: t.metadata?.annotations },
    spec,
  };
  await client.apply(chartSourceResources.HelmChart, obj as never, { fieldManager: FieldManager.Helm, force: true, signal });
}

export async function deleteHelmChart(hr: HelmRelease, client: KubeClient, signal?: AbortSignal): Promise<void> {
  const r = helmChartRefOf(hr);
  await client.delete(chartSourceResources.HelmChart, { namespace: r.namespace, name: r.name }, { signal });
}

/** The source object, checked for readiness; its artifact is the packaged chart. */
export async function readyChartSource(r: ChartSourceRef, client: KubeClient, signal?: AbortSignal): Promise<{ source: ChartSourceObject; artifact: ChartArtifact }> {
  const id = `${r.kind} '${r.namespace}/${r.name}'`;
  const source = await client.get<ChartSourceObject>(chartSourceResources[r.kind], { namespace: r.namespace, name: r.name }, { signal });
  if (!source) throw new ChartSourceNotReadyError(`${id} not found`);
  if (r.kind === ChartRefKind.ExternalArtifact) {
    if (!source.status?.artifact) throw new ChartSourceNotReadyError(`${id} is not ready: does not have an artifact`);
    return { source, artifact: source.status.artifact };
  }
  const ready = getCondition(source as never, "Ready");
  const current = source.status?.observedGeneration === source.metadata?.generation;
  const artifact = source.status?.artifact;
  if (!artifact || !current || ready?.status !== "True") {
    const why = ready?.message ? `: ${ready.message}` : "";
    throw new ChartSourceNotReadyError(`${id} is not ready${why}`);
  }
  return { source, artifact };
}

/**
 * As Flux: an ExternalArtifact whose revision carries a digest (`<id>@sha256:<hex>`) is released
 * as chart version `<version>+<hex[0:12]>`, so new content upgrades even when Chart.yaml's version
 * did not change. Undefined for other sources (and revisions without a digest).
 */
export function revisionDigestOf(kind: string, artifact: ChartArtifact): string | undefined {
  if (kind !== ChartRefKind.ExternalArtifact || !artifact.revision.includes(":")) return undefined;
  const at = artifact.revision.lastIndexOf("@");
  return at >= 0 ? artifact.revision.slice(at + 1) : artifact.revision;
}
