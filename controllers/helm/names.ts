// helm-controller names not (yet) in controllers/api: reasons Flux's helm-controller writes
// that api/conditions.ts does not list. Kept here so the reconciler has no bare strings.
export const HelmReason = {
  /** Values (valuesFrom) or the chart source could not be prepared. */
  InitFailed: "InitFailed",
  /** spec.chart/spec.chartRef is missing or names an unsupported kind. */
  InvalidChartReference: "InvalidChartReference",
  /** The stored release could not be read (helm status failed, e.g. forbidden). */
  StateError: "StateError",
  /** A rollback remediation found no earlier successful release to roll back to. */
  MissingRollbackTarget: "MissingRollbackTarget",
  /** A release left pending (or uninstalling) by a helm process that is gone was unlocked (Flux: PendingRelease). */
  PendingRelease: "PendingRelease",
} as const;

/** Default Helm action timeout (spec.timeout). */
export const DefaultTimeout = "5m0s";
/** Default number of snapshots kept in status.history (Helm's --history-max default is 10; Flux keeps 5). */
export const DefaultMaxHistory = 5;
/** Stalled reason when a failed action has no retries left (Flux: RetriesExceeded). */
export const RetriesExceededReason = "RetriesExceeded";
