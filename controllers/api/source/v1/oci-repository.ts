/**
 * OCIRepository (source.toolkit.fluxcd.io/v1): pulls an OCI artifact from a container registry
 * and publishes one of its layers as an artifact. Spec: source-controller docs/spec/v1/ocirepositories.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import {
  artifact,
  duration,
  localObjectReference,
  reconcileStatusProps,
  ShortDurationPattern,
  statusDefault,
  type KubeObject,
} from "../../meta";
import { T, type Static } from "../../schema";
import { SourceApiVersion, SourceGroup, SourceVersion, sourceCategories } from "./group-version";
import { ociRepositoryVerification } from "./oci-verification";

export const OCIRepositoryNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "OCIRepository",
  listKind: "OCIRepositoryList",
  plural: "ocirepositories",
  singular: "ocirepository",
  shortNames: ["ocirepo"],
  categories: sourceCategories,
} as const;

/** Registry authentication: `generic` uses secretRef or the ServiceAccount's pull secrets. */
export const OCIProvider = { Generic: "generic", AWS: "aws", Azure: "azure", GCP: "gcp" } as const;
export type OCIProvider = (typeof OCIProvider)[keyof typeof OCIProvider];

/** What to do with the selected layer: untar it, or store it as it is. */
export const OCILayerOperation = { Extract: "extract", Copy: "copy" } as const;
export type OCILayerOperation = (typeof OCILayerOperation)[keyof typeof OCILayerOperation];

/** The URL scheme every OCIRepository URL starts with. */
export const OCIRepositoryPrefix = "oci://";

/** Which artifact to pull. Precedence: digest, then semver, then tag (`latest` by default). */
export const ociRepositoryRef = T.Object(
  {
    digest: T.Optional(T.String("Digest to pull, `sha256:<hash>`; takes precedence over semver.")),
    semver: T.Optional(T.String("SemVer range; the highest matching tag is pulled. Takes precedence over tag.")),
    semverFilter: T.Optional(T.String("Regular expression that tags in the semver range must also match.")),
    tag: T.Optional(T.String("Tag to pull; `latest` by default.")),
  },
  "OCI reference to pull and watch; the `latest` tag when unset.",
);
export type OCIRepositoryRef = Static<typeof ociRepositoryRef>;

export const ociLayerSelector = (description: string) =>
  T.Object(
    {
      mediaType: T.Optional(T.String("Media type of the layer to select; the first layer when unset.")),
      operation: T.Optional(
        T.Enum(Object.values(OCILayerOperation), "`extract` (default) untars the layer; `copy` stores it as is."),
      ),
    },
    description,
  );
export type OCILayerSelector = Static<ReturnType<typeof ociLayerSelector>>;

export const ociRepositorySpec = T.Object(
  {
    url: T.String({ description: "Repository of the artifact in a registry, `oci://host/path`.", pattern: "^oci://.*$" }),
    ref: T.Optional(ociRepositoryRef),
    layerSelector: T.Optional(ociLayerSelector("Layer to take from the artifact; the first one when unset.")),
    provider: T.Optional(
      T.Enum(Object.values(OCIProvider), { description: "Registry authentication provider.", default: OCIProvider.Generic }),
    ),
    secretRef: T.Optional(
      localObjectReference("Secret of type kubernetes.io/dockerconfigjson with registry credentials."),
    ),
    verify: T.Optional(ociRepositoryVerification),
    serviceAccountName: T.Optional(
      T.String("ServiceAccount whose image pull secrets, or workload identity, authenticate the pull."),
    ),
    certSecretRef: T.Optional(
      localObjectReference("Secret with a client certificate (`tls.crt`, `tls.key`) and/or CA (`ca.crt`) for TLS."),
    ),
    proxySecretRef: T.Optional(localObjectReference("Secret with the proxy to use for the registry.")),
    interval: duration("How often to check the registry for a new artifact (approximate, jittered)."),
    timeout: T.Optional(
      T.String({ description: "Timeout for registry operations such as pulls.", pattern: ShortDurationPattern, default: "60s" }),
    ),
    ignore: T.Optional(
      T.String("Paths to leave out of the artifact, in .sourceignore (gitignore) format; replaces the defaults."),
    ),
    insecure: T.Optional(T.Boolean("Allow a plain-HTTP registry.")),
    suspend: T.Optional(T.Boolean("Stop reconciling this OCIRepository.")),
  },
  "Desired state of an OCIRepository.",
);
export type OCIRepositorySpec = Static<typeof ociRepositorySpec>;

export const ociRepositoryStatus = T.Object(
  {
    ...reconcileStatusProps,
    url: T.Optional(T.String("Address of the latest artifact, stable across revisions.")),
    artifact: T.Optional(artifact("Artifact of the last successful reconciliation.")),
    observedIgnore: T.Optional(T.String("The ignore patterns the current artifact was built with.")),
    observedLayerSelector: T.Optional(ociLayerSelector("The layer selector the current artifact was built with.")),
  },
  { description: "Observed state of an OCIRepository.", default: statusDefault },
);
export type OCIRepositoryStatus = Static<typeof ociRepositoryStatus>;

export type OCIRepository = KubeObject<
  typeof OCIRepositoryNames.apiVersion,
  typeof OCIRepositoryNames.kind,
  OCIRepositorySpec,
  OCIRepositoryStatus
>;

export const ociRepositoryKind = defineKind({
  names: OCIRepositoryNames,
  scope: "Namespaced",
  description: "OCIRepository produces an artifact from an OCI artifact in a container registry.",
  spec: ociRepositorySpec,
  status: ociRepositoryStatus,
  printerColumns: [{ name: "URL", type: "string", jsonPath: ".spec.url" }, readyColumn, statusColumn, ageColumn],
});
