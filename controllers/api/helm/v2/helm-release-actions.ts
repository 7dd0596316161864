/**
 * HelmRelease (helm.toolkit.fluxcd.io/v2): configuration of the Helm actions — install, upgrade,
 * test, rollback, uninstall — and of drift detection. Spec: helm-controller docs/spec/v2/helmreleases.md.
 */
import { ignoreRule } from "../../kustomize-common";
import { duration } from "../../meta";
import { T, type Static } from "../../schema";

/** What to do with the chart's CRDs on install and upgrade. */
export const CRDsPolicy = { Skip: "Skip", Create: "Create", CreateReplace: "CreateReplace" } as const;
export type CRDsPolicy = (typeof CRDsPolicy)[keyof typeof CRDsPolicy];

/** On failure: remediate (uninstall or roll back) and retry, or just retry at an interval. */
export const ActionStrategy = { RemediateOnFailure: "RemediateOnFailure", RetryOnFailure: "RetryOnFailure" } as const;
export type ActionStrategy = (typeof ActionStrategy)[keyof typeof ActionStrategy];

/** How a failed upgrade is remediated. */
export const RemediationStrategy = { Rollback: "rollback", Uninstall: "uninstall" } as const;
export type RemediationStrategy = (typeof RemediationStrategy)[keyof typeof RemediationStrategy];

/** Server-side apply for upgrade and rollback; `auto` follows what the release used before. */
export const ServerSideApplyMode = { Enabled: "enabled", Disabled: "disabled", Auto: "auto" } as const;
export type ServerSideApplyMode = (typeof ServerSideApplyMode)[keyof typeof ServerSideApplyMode];

/** When the chart name changes: uninstall and install again, or upgrade in place. */
export const ChartNameChangeStrategy = { InPlaceUpdate: "InPlaceUpdate", Reinstall: "Reinstall" } as const;
export type ChartNameChangeStrategy = (typeof ChartNameChangeStrategy)[keyof typeof ChartNameChangeStrategy];

/** `enabled` corrects drift, `warn` only reports it, `disabled` (default) skips detection. */
export const DriftDetectionMode = { Enabled: "enabled", Warn: "warn", Disabled: "disabled" } as const;
export type DriftDetectionMode = (typeof DriftDetectionMode)[keyof typeof DriftDetectionMode];

export const DeletionPropagation = { Background: "background", Foreground: "foreground", Orphan: "orphan" } as const;
export type DeletionPropagation = (typeof DeletionPropagation)[keyof typeof DeletionPropagation];

const actionTimeout = (action: string) =>
  T.Optional(duration(`Timeout for each Kubernetes operation (such as hook Jobs) of the ${action}; spec.timeout by default.`));

const remediationProps = {
  retries: T.Optional(T.Integer("Retries before giving up, with remediation between them; 0 by default, negative for unlimited.")),
  ignoreTestFailures: T.Optional(T.Boolean("Do not remediate when tests fail; test.ignoreFailures by default.")),
  remediateLastFailure: T.Optional(T.Boolean("Remediate the last failure too, when no retries remain.")),
};

const strategy = (action: string, validations: { message: string; rule: string }[]) =>
  T.Object(
    {
      name: T.Enum(Object.values(ActionStrategy), "Strategy name."),
      retryInterval: T.Optional(duration("Interval between retries, only for RetryOnFailure; 5m by default.")),
    },
    { description: `What to do when the ${action} fails; RemediateOnFailure by default.`, validations },
  );

/** Switches shared by install and upgrade. */
const installUpgradeProps = (action: string) => ({
  timeout: actionTimeout(action),
  disableTakeOwnership: T.Optional(T.Boolean("Do not take ownership of existing objects.")),
  disableWait: T.Optional(T.Boolean(`Do not wait for objects to be ready after the ${action}.`)),
  disableWaitForJobs: T.Optional(T.Boolean(`Do not wait for Jobs to complete after the ${action}.`)),
  disableHooks: T.Optional(T.Boolean(`Do not run hooks during the ${action}.`)),
  disableOpenAPIValidation: T.Optional(T.Boolean("Do not validate rendered manifests against the cluster's OpenAPI schema.")),
  disableSchemaValidation: T.Optional(T.Boolean("Do not validate values against the chart's JSON schema.")),
});

export const install = T.Object(
  {
    ...installUpgradeProps("install"),
    strategy: T.Optional(
      strategy("install", [
        {
          message: ".retryInterval cannot be set when .name is 'RemediateOnFailure'",
          rule: "!has(self.retryInterval) || self.name != 'RemediateOnFailure'",
        },
      ]),
    ),
    remediation: T.Optional(T.Object(remediationProps, "Remediation (uninstall) of a failed install.")),
    replace: T.Optional(T.Boolean("Reuse the release name if it belongs to a deleted release kept in history.")),
    skipCRDs: T.Optional(T.Boolean("Deprecated: use `crds: Skip`.")),
    crds: T.Optional(T.Enum(Object.values(CRDsPolicy), "CRD policy on install; `Create` by default.")),
    createNamespace: T.Optional(T.Boolean("Create the target namespace if missing (never deleted on uninstall).")),
    serverSideApply: T.Optional(T.Boolean("Use server-side apply for the install.")),
  },
  "Configuration of Helm install.",
);
export type Install = Static<typeof install>;

export const upgrade = T.Object(
  {
    ...installUpgradeProps("upgrade"),
    strategy: T.Optional(
      strategy("upgrade", [
        {
          message: ".retryInterval can only be set when .name is 'RetryOnFailure'",
          rule: "!has(self.retryInterval) || self.name == 'RetryOnFailure'",
        },
      ]),
    ),
    remediation: T.Optional(
      T.Object(
        {
          ...remediationProps,
          strategy: T.Optional(T.Enum(Object.values(RemediationStrategy), "How to remediate; `rollback` by default.")),
        },
        "Remediation of a failed upgrade.",
      ),
    ),
    force: T.Optional(T.Boolean("Replace objects instead of patching them (client-side apply only).")),
    preserveValues: T.Optional(T.Boolean("Reuse the last release's values and merge `values` over them.")),
    cleanupOnFail: T.Optional(T.Boolean("Delete objects created by a failed upgrade.")),
    crds: T.Optional(T.Enum(Object.values(CRDsPolicy), "CRD policy on upgrade; `Skip` by default.")),
    serverSideApply: T.Optional(T.Enum(Object.values(ServerSideApplyMode), "Server-side apply; `auto` by default.")),
    chartNameChangeStrategy: T.Optional(
      T.Enum(Object.values(ChartNameChangeStrategy), "What to do when the chart name changes; `Reinstall` by default."),
    ),
  },
  "Configuration of Helm upgrade.",
);
export type Upgrade = Static<typeof upgrade>;

export const test = T.Object(
  {
    enable: T.Optional(T.Boolean("Run Helm tests after install and upgrade.")),
    timeout: actionTimeout("test"),
    ignoreFailures: T.Optional(T.Boolean("Do not remediate when tests fail.")),
    filters: T.Optional(
      T.Array(
        T.Object(
          {
            name: T.String({ description: "Name of the test.", minLength: 1, maxLength: 253 }),
            exclude: T.Optional(T.Boolean("Exclude this test instead of selecting it.")),
          },
          "A test to run or skip.",
        ),
        "Tests to run or exclude.",
      ),
    ),
  },
  "Configuration of Helm test.",
);
export type Test = Static<typeof test>;

export const rollback = T.Object(
  {
    timeout: actionTimeout("rollback"),
    disableWait: T.Optional(T.Boolean("Do not wait for objects to be ready after the rollback.")),
    disableWaitForJobs: T.Optional(T.Boolean("Do not wait for Jobs to complete after the rollback.")),
    disableHooks: T.Optional(T.Boolean("Do not run hooks during the rollback.")),
    recreate: T.Optional(T.Boolean("Deprecated and without effect since Helm 4.")),
    force: T.Optional(T.Boolean("Replace objects instead of patching them (client-side apply only).")),
    cleanupOnFail: T.Optional(T.Boolean("Delete objects created by a failed rollback.")),
    serverSideApply: T.Optional(T.Enum(Object.values(ServerSideApplyMode), "Server-side apply; `auto` by default.")),
  },
  "Configuration of Helm rollback.",
);
export type Rollback = Static<typeof rollback>;

export const uninstall = T.Object(
  {
    timeout: actionTimeout("uninstall"),
    disableHooks: T.Optional(T.Boolean("Do not run hooks during the uninstall.")),
    keepHistory: T.Optional(T.Boolean("Keep the release history, marking the release deleted.")),
    disableWait: T.Optional(T.Boolean("Do not wait for the objects to be deleted.")),
    deletionPropagation: T.Optional(
      T.Enum(Object.values(DeletionPropagation), {
        description: "Deletion propagation policy of the uninstall.",
        default: DeletionPropagation.Background,
      }),
    ),
  },
  "Configuration of Helm uninstall.",
);
export type Uninstall = Static<typeof uninstall>;

export const driftDetection = T.Object(
  {
    mode: T.Optional(T.Enum(Object.values(DriftDetectionMode), "What to do about drift; `disabled` by default.")),
    ignore: T.Optional(
      T.Array(ignoreRule("Fields to leave out of drift detection on matching objects."), "Fields drift detection ignores."),
    ),
  },
  "Detection of differences between the release manifest and the cluster.",
);
export type DriftDetection = Static<typeof driftDetection>;
