/**
 * HelmRepository (source.toolkit.fluxcd.io/v1): a Helm chart repository. For HTTP(S)
 * repositories the controller publishes the index as an artifact; `type: oci` repositories
 * only hold the registry address and credentials for HelmCharts.
 * Spec: source-controller docs/spec/v1/helmrepositories.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import {
  artifact,
  DurationPattern,
  localObjectReference,
  reconcileStatusProps,
  ShortDurationPattern,
  statusDefault,
  type KubeObject,
} from "../../meta";
import { T, type Static } from "../../schema";
import { SourceApiVersion, SourceGroup, SourceVersion, sourceCategories } from "./group-version";
import { OCIProvider } from "./oci-repository";

export const HelmRepositoryNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "HelmRepository",
  listKind: "HelmRepositoryList",
  plural: "helmrepositories",
  singular: "helmrepository",
  shortNames: ["helmrepo"],
  categories: sourceCategories,
} as const;

export const HelmRepositoryType = { Default: "default", OCI: "oci" } as const;
export type HelmRepositoryType = (typeof HelmRepositoryType)[keyof typeof HelmRepositoryType];

/** Namespaces allowed to reference the object (provisional in Flux: not enforced). */
export const accessFrom = T.Object(
  {
    namespaceSelectors: T.Array(
      T.Object(
        { matchLabels: T.Optional(T.Map(T.String(), "Labels a namespace must have.")) },
        "Selects namespaces by label.",
      ),
      "Namespaces whose objects may reference this one; any selector matching is enough.",
    ),
  },
  "Cross-namespace access list (not enforced).",
);
export type AccessFrom = Static<typeof accessFrom>;

export const helmRepositorySpec = T.Object(
  {
    url: T.String({
      description: "Repository address: `http(s)://` for an index, `oci://` for a registry.",
      pattern: "^(http|https|oci)://.*$",
    }),
    type: T.Optional(
      T.Enum(Object.values(HelmRepositoryType), "`default` (an index over HTTP) or `oci`; `oci` needs an `oci://` URL."),
    ),
    secretRef: T.Optional(
      localObjectReference("Secret with `username` and `password` for basic auth (legacy: TLS keys, use certSecretRef)."),
    ),
    certSecretRef: T.Optional(
      localObjectReference(
        "Secret with a client certificate (`tls.crt`, `tls.key`) and/or CA (`ca.crt`); wins over secretRef's TLS keys.",
      ),
    ),
    passCredentials: T.Optional(
      T.Boolean("Send the credentials to chart URLs on other hosts than the repository's too (use with care)."),
    ),
    interval: T.Optional(
      T.String({ description: "How often to fetch the index (approximate, jittered).", pattern: DurationPattern }),
    ),
    insecure: T.Optional(T.Boolean("Allow a plain-HTTP registry; only for `type: oci`.")),
    timeout: T.Optional(
      T.String({
        description: "Timeout for fetching the index, or for OCI chart pulls; 60s when unset.",
        pattern: ShortDurationPattern,
      }),
    ),
    suspend: T.Optional(T.Boolean("Stop reconciling this HelmRepository.")),
    accessFrom: T.Optional(accessFrom),
    provider: T.Optional(
      T.Enum(Object.values(OCIProvider), {
        description: "Registry authentication provider; only for `type: oci`.",
        default: OCIProvider.Generic,
      }),
    ),
  },
  "Desired state of a HelmRepository.",
);
export type HelmRepositorySpec = Static<typeof helmRepositorySpec>;

export const helmRepositoryStatus = T.Object(
  {
    ...reconcileStatusProps,
    url: T.Optional(T.String("Address of the latest index artifact, stable across revisions.")),
    artifact: T.Optional(artifact("Artifact of the last successful reconciliation (the index).")),
  },
  { description: "Observed state of a HelmRepository.", default: statusDefault },
);
export type HelmRepositoryStatus = Static<typeof helmRepositoryStatus>;

export type HelmRepository = KubeObject<
  typeof HelmRepositoryNames.apiVersion,
  typeof HelmRepositoryNames.kind,
  HelmRepositorySpec,
  HelmRepositoryStatus
>;

export const helmRepositoryKind = defineKind({
  names: HelmRepositoryNames,
  scope: "Namespaced",
  description: "HelmRepository is a Helm chart repository, over HTTP(S) or in an OCI registry.",
  spec: helmRepositorySpec,
  status: helmRepositoryStatus,
  printerColumns: [{ name: "URL", type: "string", jsonPath: ".spec.url" }, ageColumn, readyColumn, statusColumn],
});
