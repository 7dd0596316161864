/**
 * Condition types and reasons, with the exact strings Flux writes: fluxcd/pkg `apis/meta`,
 * source-controller, kustomize-controller and helm-controller. Re-exported by ./meta.ts.
 */

/** Condition types. Ready, Reconciling and Stalled are on every kind; the rest per controller. */
export const ConditionType = {
  Ready: "Ready",
  /** Abnormal-true: present only while the controller works towards the desired state. */
  Reconciling: "Reconciling",
  /** Abnormal-true: present only when retrying cannot help without a change to the object. */
  Stalled: "Stalled",
  /** Kustomization: result of the last health assessment. */
  Healthy: "Healthy",
  // Sources
  ArtifactInStorage: "ArtifactInStorage",
  ArtifactOutdated: "ArtifactOutdated",
  SourceVerified: "SourceVerified",
  FetchFailed: "FetchFailed",
  BuildFailed: "BuildFailed",
  StorageOperationFailed: "StorageOperationFailed",
  /** GitRepository: an included GitRepository has no artifact. */
  IncludeUnavailable: "IncludeUnavailable",
  // HelmRelease
  Released: "Released",
  TestSuccess: "TestSuccess",
  Remediated: "Remediated",
  Drifted: "Drifted",
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

/** Condition and event reasons, with the exact strings Flux writes. */
export const Reason = {
  // fluxcd/pkg apis/meta: every controller
  Succeeded: "Succeeded",
  Failed: "Failed",
  Progressing: "Progressing",
  ProgressingWithRetry: "ProgressingWithRetry",
  Suspended: "Suspended",
  DependencyNotReady: "DependencyNotReady",
  ReconciliationSucceeded: "ReconciliationSucceeded",
  ReconciliationFailed: "ReconciliationFailed",
  ArtifactFailed: "ArtifactFailed",
  BuildFailed: "BuildFailed",
  HealthCheckFailed: "HealthCheckFailed",
  HealthCheckCanceled: "HealthCheckCanceled",
  PruneFailed: "PruneFailed",
  InvalidPath: "InvalidPath",
  InvalidURL: "InvalidURL",
  InvalidCELExpression: "InvalidCELExpression",
  InsecureConnectionsDisallowed: "InsecureConnectionsDisallowed",
  UnsupportedConnectionType: "UnsupportedConnectionType",
  FeatureGateDisabled: "FeatureGateDisabled",
  // source-controller
  URLInvalid: "URLInvalid",
  AuthenticationFailed: "AuthenticationFailed",
  VerificationError: "VerificationError",
  DirCreationFailed: "DirectoryCreationFailed",
  StatOperationFailed: "StatOperationFailed",
  ReadOperationFailed: "ReadOperationFailed",
  AcquireLockFailed: "AcquireLockFailed",
  ArchiveOperationFailed: "ArchiveOperationFailed",
  SymlinkUpdateFailed: "SymlinkUpdateFailed",
  ArtifactUpToDate: "ArtifactUpToDate",
  CacheOperationFailed: "CacheOperationFailed",
  PatchOperationFailed: "PatchOperationFailed",
  InvalidSTSConfiguration: "InvalidSTSConfiguration",
  InvalidProviderConfiguration: "InvalidProviderConfiguration",
  GitOperationSucceeded: "GitOperationSucceeded",
  GitOperationFailed: "GitOperationFailed",
  BucketOperationSucceeded: "BucketOperationSucceeded",
  BucketOperationFailed: "BucketOperationFailed",
  IndexationFailed: "IndexationFailed",
  ChartPullSucceeded: "ChartPullSucceeded",
  ChartPackageSucceeded: "ChartPackageSucceeded",
  OCIPullFailed: "OCIArtifactPullFailed",
  OCILayerOperationFailed: "OCIArtifactLayerOperationFailed",
  /** ArtifactOutdated: the upstream has a revision the artifact does not hold yet. */
  NewRevision: "NewRevision",
  /** ArtifactOutdated (HelmChart): a chart version not yet packaged. */
  NewChart: "NewChart",
  /** ArtifactOutdated (GitRepository): the includes changed. */
  IncludeChange: "IncludeChange",
  /** FetchFailed (HelmChart): the source has no artifact yet. */
  NoSourceArtifact: "NoSourceArtifact",
  // helm-controller
  InstallSucceeded: "InstallSucceeded",
  InstallFailed: "InstallFailed",
  UpgradeSucceeded: "UpgradeSucceeded",
  UpgradeFailed: "UpgradeFailed",
  TestSucceeded: "TestSucceeded",
  TestFailed: "TestFailed",
  RollbackSucceeded: "RollbackSucceeded",
  RollbackFailed: "RollbackFailed",
  UninstallSucceeded: "UninstallSucceeded",
  UninstallFailed: "UninstallFailed",
  DriftDetected: "DriftDetected",
  NoDriftDetected: "NoDriftDetected",
  SourceNotReady: "SourceNotReady",
  InventoryBuildFailed: "InventoryBuildFailed",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
