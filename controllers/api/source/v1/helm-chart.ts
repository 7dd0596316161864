/**
 * HelmChart (source.toolkit.fluxcd.io/v1): fetches or packages a Helm chart from a
 * HelmRepository, GitRepository or Bucket and publishes it as an artifact.
 * Spec: source-controller docs/spec/v1/helmcharts.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { artifact, duration, reconcileStatusProps, statusDefault, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { SourceApiVersion, SourceGroup, SourceVersion, sourceCategories } from "./group-version";
import { helmChartVerification } from "./oci-verification";

export const HelmChartNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "HelmChart",
  listKind: "HelmChartList",
  plural: "helmcharts",
  singular: "helmchart",
  shortNames: ["hc"],
  categories: sourceCategories,
} as const;

/** When a new chart artifact is made: on a new chart version, or on every source revision. */
export const ReconcileStrategy = { ChartVersion: "ChartVersion", Revision: "Revision" } as const;
export type ReconcileStrategy = (typeof ReconcileStrategy)[keyof typeof ReconcileStrategy];

export const HelmChartSourceKind = {
  HelmRepository: "HelmRepository",
  GitRepository: "GitRepository",
  Bucket: "Bucket",
} as const;
export type HelmChartSourceKind = (typeof HelmChartSourceKind)[keyof typeof HelmChartSourceKind];

export const helmChartSourceReference = T.Object(
  {
    apiVersion: T.Optional(T.String("API version of the source.")),
    kind: T.Enum(Object.values(HelmChartSourceKind), "Kind of the source."),
    name: T.String("Name of the source, in the HelmChart's namespace."),
  },
  "Source the chart comes from.",
);
export type HelmChartSourceReference = Static<typeof helmChartSourceReference>;

export const helmChartSpec = T.Object(
  {
    chart: T.String("Chart name in a HelmRepository, or chart path in a GitRepository or Bucket."),
    version: T.Optional(
      T.String({ description: "SemVer range of the chart version; ignored for Git and Bucket sources.", default: "*" }),
    ),
    sourceRef: helmChartSourceReference,
    interval: duration("How often to check the source for a new chart (approximate, jittered)."),
    reconcileStrategy: T.Optional(
      T.Enum(Object.values(ReconcileStrategy), {
        description: "`ChartVersion`: new artifact on a new chart version; `Revision`: on every source revision.",
        default: ReconcileStrategy.ChartVersion,
      }),
    ),
    valuesFiles: T.Optional(
      T.Array(
        T.String(),
        "Values files in the source, merged in order (later wins) into the chart's values; values.yaml is not implied.",
      ),
    ),
    ignoreMissingValuesFiles: T.Optional(T.Boolean("Skip values files that do not exist instead of failing.")),
    suspend: T.Optional(T.Boolean("Stop reconciling this HelmChart.")),
    verify: T.Optional(helmChartVerification),
  },
  {
    description: "Desired state of a HelmChart.",
    validations: [
      {
        message: "spec.verify is only supported when spec.sourceRef.kind is 'HelmRepository'",
        rule: "!has(self.verify) || self.sourceRef.kind == 'HelmRepository'",
      },
    ],
  },
);
export type HelmChartSpec = Static<typeof helmChartSpec>;

export const helmChartStatus = T.Object(
  {
    ...reconcileStatusProps,
    observedSourceArtifactRevision: T.Optional(T.String("Source artifact revision the chart was last built from.")),
    observedChartName: T.Optional(T.String("Chart name of the last resolved chart.")),
    observedValuesFiles: T.Optional(T.Array(T.String(), "Values files merged into the current artifact.")),
    url: T.Optional(T.String("Address of the latest chart artifact, stable across versions.")),
    artifact: T.Optional(artifact("Artifact of the last successful reconciliation (the packaged chart).")),
  },
  { description: "Observed state of a HelmChart.", default: statusDefault },
);
export type HelmChartStatus = Static<typeof helmChartStatus>;

export type HelmChart = KubeObject<
  typeof HelmChartNames.apiVersion,
  typeof HelmChartNames.kind,
  HelmChartSpec,
  HelmChartStatus
>;

export const helmChartKind = defineKind({
  names: HelmChartNames,
  scope: "Namespaced",
  description: "HelmChart produces a packaged Helm chart artifact from a source.",
  spec: helmChartSpec,
  status: helmChartStatus,
  printerColumns: [
    { name: "Chart", type: "string", jsonPath: ".spec.chart" },
    { name: "Version", type: "string", jsonPath: ".spec.version" },
    { name: "Source Kind", type: "string", jsonPath: ".spec.sourceRef.kind" },
    { name: "Source Name", type: "string", jsonPath: ".spec.sourceRef.name" },
    ageColumn,
    readyColumn,
    statusColumn,
  ],
});
