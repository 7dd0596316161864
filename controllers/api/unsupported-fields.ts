/**
 * Spec fields of Flux's CRDs that our controllers accept in the schema but do not implement, or
 * implement only in part, with what a user sees. docs/compatibility.md (compat-table.ts) reads
 * this list; a path must exist in the kind's schema (the table generator refuses it otherwise).
 * Paths as in the table: `spec.a.b`, `[]` for list items.
 */
export interface FieldLimit {
  /** `unsupported`: not implemented (the note says what a user sees); `partial`: some values or some of its behaviour only. */
  support: "unsupported" | "partial";
  note: string;
}

export const fieldLimits: Record<string, Record<string, FieldLimit>> = {
  GitRepository: {
    "spec.provider": { support: "partial", note: "`generic` only; `azure`/`github` (OIDC) are Stalled" },
    "spec.proxySecretRef": { support: "partial", note: "HTTP(S) proxies only; no SOCKS5 for SSH URLs" },
  },
  OCIRepository: {
    "spec.verify": { support: "unsupported", note: "cosign/notation verification: Ready=False `VerificationError`" },
    "spec.proxySecretRef": { support: "unsupported", note: "Stalled" },
    "spec.provider": { support: "partial", note: "`generic` only; `aws`/`azure`/`gcp` are Stalled" },
  },
  HelmRepository: {
    "spec.provider": { support: "partial", note: "`generic` only" },
  },
  HelmChart: {
    "spec.verify": { support: "unsupported", note: "not verified" },
  },
  Bucket: {
    "spec.provider": { support: "partial", note: "`generic` and `aws` with static keys; `gcp`/`azure` are Stalled" },
    "spec.sts": { support: "unsupported", note: "Stalled" },
    "spec.proxySecretRef": { support: "unsupported", note: "Stalled" },
    "spec.serviceAccountName": { support: "unsupported", note: "workload identity: Stalled" },
  },
  Kustomization: {
    "spec.kubeConfig.configMapRef": { support: "unsupported", note: "workload identity: Ready=False, use `secretRef`" },
  },
  HelmRelease: {
    "spec.kubeConfig.configMapRef": { support: "unsupported", note: "workload identity: Ready=False `RESTClientError`, use `secretRef`" },
    "spec.driftDetection": { support: "partial", note: "checked as the controller, not the impersonated serviceAccountName (on a kubeConfig cluster: as the impersonated account)" },
    "spec.healthCheckExprs": { support: "partial", note: "evaluated for the release's objects of the covered kinds after helm's own `--wait`" },
    "spec.postRenderStrategy": { support: "partial", note: "acts as `nohooks`: the helm v3 CLI never post-renders hooks" },
    "spec.install.crds": { support: "partial", note: "`Skip` and `Create`; `CreateReplace` acts as `Create` (helm CLI)" },
    "spec.upgrade.crds": { support: "partial", note: "`Skip` only: the helm CLI never creates or replaces CRDs on upgrade" },
    "spec.install.replace": { support: "unsupported", note: "ignored (`helm upgrade --install` has no --replace)" },
    "spec.install.serverSideApply": { support: "unsupported", note: "ignored: helm v3 applies client-side" },
    "spec.upgrade.serverSideApply": { support: "unsupported", note: "ignored: helm v3 applies client-side" },
    "spec.rollback.serverSideApply": { support: "unsupported", note: "ignored: helm v3 applies client-side" },
    "spec.upgrade.chartNameChangeStrategy": { support: "unsupported", note: "ignored" },
    "spec.waitStrategy": { support: "partial", note: "helm's own `--wait` whatever the name; `legacy` skips healthCheckExprs" },
    "spec.persistentClient": { support: "partial", note: "no effect: each helm action runs its own client" },
  },
  ImageRepository: {
    "spec.provider": { support: "partial", note: "`generic` only; `aws`/`azure`/`gcp` are Stalled" },
    "spec.proxySecretRef": { support: "unsupported", note: "Stalled" },
  },
  Provider: {
    "spec.serviceAccountName": { support: "unsupported", note: "workload identity: `InvalidConfig`" },
  },
};
