/**
 * HelmRelease (helm.toolkit.fluxcd.io/v2): installs and upgrades a Helm chart from a source,
 * with tests, remediation and drift detection. Spec: helm-controller docs/spec/v2/helmreleases.md.
 * The per-action settings are in ./helm-release-actions.ts.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { commonMetadata, customHealthCheck, image, patch } from "../../kustomize-common";
import {
  dependencyReference,
  duration,
  int64,
  kubeConfigReference,
  localObjectReference,
  reconcileStatusProps,
  resourceInventory,
  statusDefault,
  timestamp,
  type KubeObject,
} from "../../meta";
import { T, type Static } from "../../schema";
import { HelmChartSourceKind, ReconcileStrategy } from "../../source/v1/helm-chart";
import { VerificationProvider } from "../../source/v1/oci-verification";
import { driftDetection, install, rollback, test, uninstall, upgrade } from "./helm-release-actions";

export const HelmGroup = "helm.toolkit.fluxcd.io";
export const HelmVersion = "v2";
export const HelmApiVersion = `${HelmGroup}/${HelmVersion}` as const;

export const HelmReleaseNames = {
  group: HelmGroup,
  version: HelmVersion,
  apiVersion: HelmApiVersion,
  kind: "HelmRelease",
  listKind: "HelmReleaseList",
  plural: "helmreleases",
  singular: "helmrelease",
  shortNames: ["hr"],
  categories: ["all", "fluxcd", "fluxcd-appliers"],
} as const;

/** Sources `spec.chartRef` can point at, each holding a packaged chart. */
export const ChartRefKind = { OCIRepository: "OCIRepository", HelmChart: "HelmChart", ExternalArtifact: "ExternalArtifact" } as const;
export type ChartRefKind = (typeof ChartRefKind)[keyof typeof ChartRefKind];

/** Whether hooks go through post-renderers: not at all, with the templates, or separately. */
export const PostRenderStrategy = { NoHooks: "nohooks", Combined: "combined", Separate: "separate" } as const;
export type PostRenderStrategy = (typeof PostRenderStrategy)[keyof typeof PostRenderStrategy];

/** How Helm waits for readiness: kstatus polling, or Helm 3's own logic. */
export const WaitStrategyName = { Poller: "poller", Legacy: "legacy" } as const;
export type WaitStrategyName = (typeof WaitStrategyName)[keyof typeof WaitStrategyName];

/** The last release action attempted; drives retries and remediation. */
export const ReleaseAction = { Install: "install", Upgrade: "upgrade" } as const;
export type ReleaseAction = (typeof ReleaseAction)[keyof typeof ReleaseAction];

/** The release's default values key in a referenced ConfigMap or Secret. */
export const DefaultValuesKey = "values.yaml";

const name253 = (description: string) => T.String({ description, minLength: 1, maxLength: 253 });
const namespace63 = (description: string) => T.String({ description, minLength: 1, maxLength: 63 });

export const helmChartTemplate = T.Object(
  {
    metadata: T.Optional(
      T.Object(
        {
          labels: T.Optional(T.Map(T.String(), "Labels of the HelmChart.")),
          annotations: T.Optional(T.Map(T.String(), "Annotations of the HelmChart.")),
        },
        "Labels and annotations of the generated HelmChart.",
      ),
    ),
    spec: T.Object(
      {
        chart: T.String({ description: "Chart name, or path in a Git or Bucket source.", minLength: 1, maxLength: 2048 }),
        version: T.Optional(
          T.String({ description: "SemVer range of the chart version; ignored for Git and Bucket sources.", default: "*" }),
        ),
        sourceRef: T.Object(
          {
            apiVersion: T.Optional(T.String("API version of the source.")),
            kind: T.Enum(Object.values(HelmChartSourceKind), "Kind of the source."),
            name: name253("Name of the source."),
            namespace: T.Optional(namespace63("Namespace of the source; the HelmChart is created there.")),
          },
          "Source the chart comes from.",
        ),
        interval: T.Optional(duration("How often to check the source; spec.interval by default.")),
        reconcileStrategy: T.Optional(
          T.Enum(Object.values(ReconcileStrategy), {
            description: "`ChartVersion`: new artifact on a new chart version; `Revision`: on every source revision.",
            default: ReconcileStrategy.ChartVersion,
          }),
        ),
        valuesFiles: T.Optional(T.Array(T.String(), "Values files in the source, merged in order into the chart's values.")),
        ignoreMissingValuesFiles: T.Optional(T.Boolean("Skip values files that do not exist instead of failing.")),
        verify: T.Optional(
          T.Object(
            {
              provider: T.Enum(Object.values(VerificationProvider), {
                description: "Signing technology to verify with.",
                default: VerificationProvider.Cosign,
              }),
              secretRef: T.Optional(localObjectReference("Secret with the trusted public keys.")),
            },
            "Verify the chart's signature (OCI sources only).",
          ),
        ),
      },
      "Spec of the generated HelmChart.",
    ),
  },
  "Template of the HelmChart the controller creates for this release.",
);
export type HelmChartTemplate = Static<typeof helmChartTemplate>;

export const chartReference = T.Object(
  {
    apiVersion: T.Optional(T.String("API version of the source.")),
    kind: T.Enum(Object.values(ChartRefKind), "Kind of the source."),
    name: name253("Name of the source."),
    namespace: T.Optional(namespace63("Namespace of the source; the HelmRelease's by default.")),
  },
  "Source holding the packaged chart, instead of `chart`.",
);
export type ChartReference = Static<typeof chartReference>;

export const valuesReference = T.Object(
  {
    kind: T.Enum(["Secret", "ConfigMap"], "Kind of the object holding values."),
    name: name253("Name of the object, in the HelmRelease's namespace."),
    valuesKey: T.Optional(
      T.String({ description: "Data key holding the values; `values.yaml` by default.", maxLength: 253, pattern: "^[\\-._a-zA-Z0-9]+$" }),
    ),
    targetPath: T.Optional(
      T.String({
        description: "Path (`a.b[0].c`) to put the value at, as `helm --set`; the whole key merges at the root when unset.",
        maxLength: 250,
        pattern: String.raw`^([a-zA-Z0-9_\-.\\\/]|\[[0-9]{1,5}\])+$`,
      }),
    ),
    optional: T.Optional(T.Boolean("Tolerate a missing object or key.")),
    literal: T.Optional(T.Boolean("With targetPath: set the value as a literal string, as `helm --set-literal`.")),
  },
  "Values read from a ConfigMap or Secret, merged in order before `values`.",
);
export type ValuesReference = Static<typeof valuesReference>;

export const postRenderer = T.Object(
  {
    kustomize: T.Optional(
      T.Object(
        {
          patches: T.Optional(T.Array(patch, "Patches applied to the rendered manifests.")),
          images: T.Optional(T.Array(image, "Image overrides.")),
        },
        "Kustomize patches and images applied to the rendered manifests.",
      ),
    ),
  },
  "A post-renderer; post-renderers run in order.",
);
export type PostRenderer = Static<typeof postRenderer>;

export const helmReleaseSpec = T.Object(
  {
    chart: T.Optional(helmChartTemplate),
    chartRef: T.Optional(chartReference),
    interval: duration("How often to reconcile the release, correcting drift when enabled."),
    kubeConfig: T.Optional(kubeConfigReference),
    suspend: T.Optional(T.Boolean("Stop reconciling this HelmRelease (a running reconcile completes).")),
    releaseName: T.Optional(
      T.String({ description: "Helm release name; `[targetNamespace-]name` by default.", minLength: 1, maxLength: 53 }),
    ),
    targetNamespace: T.Optional(namespace63("Namespace to install into; the HelmRelease's by default.")),
    storageNamespace: T.Optional(namespace63("Namespace of the Helm release storage; the HelmRelease's by default.")),
    dependsOn: T.Optional(T.Array(dependencyReference, "HelmReleases that must be ready first.")),
    timeout: T.Optional(duration("Timeout for each Kubernetes operation of a Helm action; 5m by default.")),
    maxHistory: T.Optional(T.Integer("Release revisions Helm keeps; 5 by default, 0 for unlimited.")),
    serviceAccountName: T.Optional(name253("ServiceAccount to impersonate when reconciling.")),
    persistentClient: T.Optional(T.Boolean("Reuse one Kubernetes client for the whole reconcile; true by default.")),
    driftDetection: T.Optional(driftDetection),
    install: T.Optional(install),
    upgrade: T.Optional(upgrade),
    test: T.Optional(test),
    rollback: T.Optional(rollback),
    uninstall: T.Optional(uninstall),
    valuesFrom: T.Optional(T.Array(valuesReference, "ConfigMaps and Secrets to read values from, merged in order.")),
    values: T.Optional(T.Json<Record<string, unknown>>("Values of the release, merged over valuesFrom.")),
    commonMetadata: T.Optional(commonMetadata),
    postRenderers: T.Optional(T.Array(postRenderer, "Post-renderers, applied in order.")),
    postRenderStrategy: T.Optional(
      T.Enum(Object.values(PostRenderStrategy), "Whether hooks are post-rendered; `combined` by default."),
    ),
    waitStrategy: T.Optional(
      T.Object(
        { name: T.Enum(Object.values(WaitStrategyName), "`poller` (kstatus) or `legacy` (Helm 3).") },
        "How Helm waits for objects to become ready; `poller` by default.",
      ),
    ),
    healthCheckExprs: T.Optional(
      T.Array(customHealthCheck, "CEL health checks for custom kinds, used when waiting with the poller."),
    ),
  },
  {
    description: "Desired state of a HelmRelease.",
    validations: [
      {
        message: "either chart or chartRef must be set",
        rule: "(has(self.chart) && !has(self.chartRef)) || (!has(self.chart) && has(self.chartRef))",
      },
    ],
  },
);
export type HelmReleaseSpec = Static<typeof helmReleaseSpec>;

/** A Helm release revision as stored by Helm, newest first in status.history. */
export const releaseSnapshot = T.Object(
  {
    apiVersion: T.Optional(T.String("Version of the digest calculation.")),
    digest: T.String("Checksum of the release object in storage, `<algo>:<checksum>`."),
    name: T.String("Release name."),
    namespace: T.String("Namespace the release is installed in."),
    version: T.Integer("Release revision."),
    status: T.String("Helm status of the release."),
    action: T.Optional(T.String("Helm action that produced this revision.")),
    chartName: T.String("Chart name."),
    chartVersion: T.String("Chart version."),
    appVersion: T.Optional(T.String("Chart app version.")),
    configDigest: T.String("Checksum of the values, `<algo>:<checksum>`."),
    firstDeployed: timestamp("When the release was first deployed."),
    lastDeployed: timestamp("When this revision was deployed."),
    deleted: T.Optional(timestamp("When the release was deleted.")),
    testHooks: T.Optional(
      T.Map(
        T.Object(
          {
            lastStarted: T.Optional(timestamp("When the test hook last started.")),
            lastCompleted: T.Optional(timestamp("When the test hook last completed.")),
            phase: T.Optional(T.String("Phase the test hook was last seen in.")),
          },
          "State of one test hook.",
        ),
        "Test hooks run for this revision, by name.",
      ),
    ),
    ociDigest: T.Optional(T.String("Digest of the OCI artifact the chart came from.")),
  },
  "A Helm release revision.",
);
export type ReleaseSnapshot = Static<typeof releaseSnapshot>;

export const helmReleaseStatus = T.Object(
  {
    ...reconcileStatusProps,
    observedPostRenderersDigest: T.Optional(T.String("Digest of the post-renderers of the last successful reconcile.")),
    observedCommonMetadataDigest: T.Optional(T.String("Digest of commonMetadata of the last successful reconcile.")),
    lastAttemptedGeneration: T.Optional(int64("Last metadata.generation the controller attempted.")),
    helmChart: T.Optional(T.String("`namespace/name` of the HelmChart created for the release.")),
    storageNamespace: T.Optional(namespace63("Namespace of the Helm storage of the current release.")),
    history: T.Optional(T.Array(releaseSnapshot, "Releases up to the last successful one, newest first.")),
    inventory: T.Optional(resourceInventory),
    lastAttemptedReleaseAction: T.Optional(T.Enum(Object.values(ReleaseAction), "Last release action attempted.")),
    lastAttemptedReleaseActionDuration: T.Optional(T.String("Duration of the last release action.")),
    failures: T.Optional(int64("Reconcile failures against the current desired state.")),
    installFailures: T.Optional(int64("Install failures against the current desired state.")),
    upgradeFailures: T.Optional(int64("Upgrade failures against the current desired state.")),
    lastAttemptedRevision: T.Optional(T.String("Chart version last attempted (`+<digest prefix>` for OCI sources).")),
    lastAttemptedRevisionDigest: T.Optional(T.String("Digest of the last attempted revision (OCI sources).")),
    lastAttemptedValuesChecksum: T.Optional(T.String("Deprecated: SHA1 of the values; see lastAttemptedConfigDigest.")),
    lastReleaseRevision: T.Optional(T.Integer("Deprecated: revision of the last successful release; see history.")),
    lastAttemptedConfigDigest: T.Optional(T.String("Digest of the values last attempted.")),
    lastHandledForceAt: T.Optional(T.String("Last value of the reconcile.fluxcd.io/forceAt annotation acted on.")),
    lastHandledResetAt: T.Optional(T.String("Last value of the reconcile.fluxcd.io/resetAt annotation acted on.")),
  },
  { description: "Observed state of a HelmRelease.", default: statusDefault },
);
export type HelmReleaseStatus = Static<typeof helmReleaseStatus>;

export type HelmRelease = KubeObject<
  typeof HelmReleaseNames.apiVersion,
  typeof HelmReleaseNames.kind,
  HelmReleaseSpec,
  HelmReleaseStatus
>;

export const helmReleaseKind = defineKind({
  names: HelmReleaseNames,
  scope: "Namespaced",
  description: "HelmRelease installs and upgrades a Helm chart.",
  spec: helmReleaseSpec,
  status: helmReleaseStatus,
  printerColumns: [ageColumn, readyColumn, statusColumn],
});
