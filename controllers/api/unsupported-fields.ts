/**
 * Spec fields of Flux's CRDs that our controllers accept in the schema but do not implement, or
 * implement only in part, with what a user sees. docs/compatibility.md (compat-table.ts) reads
 * this list; a path must exist in the kind's schema (the table generator refuses it otherwise).
 * Paths as in the table: `spec.a.b`, `[]` for list items.
 */
export interface FieldLimit {
  /** `unsupported`: the controller reports it (Stalled or Ready=False) and does nothing else; `partial`: some values only. */
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
    "spec.kubeConfig": { support: "unsupported", note: "remote clusters: not implemented" },
  },
  Provider: {
    "spec.serviceAccountName": { support: "unsupported", note: "workload identity: `InvalidConfig`" },
  },
  Receiver: {
    "spec.type": { support: "partial", note: "every type but `gcr` (Google's keys are out of reach): Stalled, saying so" },
  },
};
