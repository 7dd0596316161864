/**
 * Kustomization (kustomize.toolkit.fluxcd.io/v1): builds a path of a source artifact with
 * kustomize and applies the result with server-side apply, pruning what disappears.
 * Spec: kustomize-controller docs/spec/v1/kustomizations.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { commonMetadata, customHealthCheck, ignoreRule, image, patch } from "../../kustomize-common";
import {
  dependencyReference,
  duration,
  historySnapshot,
  kubeConfigReference,
  localObjectReference,
  namespacedObjectKindReference,
  reconcileStatusProps,
  resourceInventory,
  statusDefault,
  type KubeObject,
} from "../../meta";
import { T, type Static } from "../../schema";

export const KustomizeGroup = "kustomize.toolkit.fluxcd.io";
export const KustomizeVersion = "v1";
export const KustomizeApiVersion = `${KustomizeGroup}/${KustomizeVersion}` as const;

export const KustomizationNames = {
  group: KustomizeGroup,
  version: KustomizeVersion,
  apiVersion: KustomizeApiVersion,
  kind: "Kustomization",
  listKind: "KustomizationList",
  plural: "kustomizations",
  singular: "kustomization",
  shortNames: ["ks"],
  categories: ["all", "fluxcd", "fluxcd-appliers"],
} as const;

/** What happens to the applied objects when the Kustomization is deleted. */
export const DeletionPolicy = {
  /** Default: delete them when `prune` is true, orphan them otherwise. */
  MirrorPrune: "MirrorPrune",
  Delete: "Delete",
  /** Delete them and wait (up to `timeout`) until they are gone. */
  WaitForTermination: "WaitForTermination",
  Orphan: "Orphan",
} as const;
export type DeletionPolicy = (typeof DeletionPolicy)[keyof typeof DeletionPolicy];

/** Source kinds a Kustomization can build from. */
export const KustomizationSourceKind = {
  OCIRepository: "OCIRepository",
  GitRepository: "GitRepository",
  Bucket: "Bucket",
  ExternalArtifact: "ExternalArtifact",
} as const;
export type KustomizationSourceKind = (typeof KustomizationSourceKind)[keyof typeof KustomizationSourceKind];

/** When post-build substitution runs: only with variables defined, or always (defaults apply). */
export const SubstituteStrategy = { WithVariables: "WithVariables", Always: "Always" } as const;
export type SubstituteStrategy = (typeof SubstituteStrategy)[keyof typeof SubstituteStrategy];

/** Kustomize build options that annotate the output with where each object came from. */
export const BuildMetadataOption = {
  OriginAnnotations: "originAnnotations",
  TransformerAnnotations: "transformerAnnotations",
} as const;
export type BuildMetadataOption = (typeof BuildMetadataOption)[keyof typeof BuildMetadataOption];

export const kustomizationSourceReference = T.Object(
  {
    apiVersion: T.Optional(T.String("API version of the source.")),
    kind: T.Enum(Object.values(KustomizationSourceKind), "Kind of the source."),
    name: T.String("Name of the source."),
    namespace: T.Optional(T.String("Namespace of the source; defaults to the Kustomization's.")),
  },
  "Source whose artifact holds the manifests.",
);
export type KustomizationSourceReference = Static<typeof kustomizationSourceReference>;

export const decryption = T.Object(
  {
    provider: T.Enum(["sops"], "Decryption provider; only `sops`."),
    secretRef: T.Optional(
      localObjectReference("Secret with the private keys, or static cloud KMS credentials, for decryption."),
    ),
    serviceAccountName: T.Optional(
      T.String("ServiceAccount whose workload identity authenticates to cloud KMS services."),
    ),
  },
  "Decrypt SOPS-encrypted Secrets in the build output.",
);
export type Decryption = Static<typeof decryption>;

export const substituteReference = T.Object(
  {
    kind: T.Enum(["Secret", "ConfigMap"], "Kind of the object holding variables."),
    name: T.String({ description: "Name of the object.", minLength: 1, maxLength: 253 }),
    optional: T.Optional(
      T.Boolean({ description: "Tolerate a missing object, as if it defined no variables.", default: false }),
    ),
  },
  "Secret or ConfigMap whose data keys are substitution variables.",
);
export type SubstituteReference = Static<typeof substituteReference>;

export const postBuild = T.Object(
  {
    substitute: T.Optional(T.Map(T.String(), "Variables substituted for `${name}` in the build output.")),
    substituteFrom: T.Optional(
      T.Array(substituteReference, "Secrets and ConfigMaps to read variables from; `substitute` wins on conflicts."),
    ),
    substituteStrategy: T.Optional(
      T.Enum(
        Object.values(SubstituteStrategy),
        "`WithVariables` (default) substitutes only when variables are defined; `Always` also applies `${var:=default}`.",
      ),
    ),
  },
  "Variable substitution applied to the kustomize build output.",
);
export type PostBuild = Static<typeof postBuild>;

export const kustomizationSpec = T.Object(
  {
    sourceRef: kustomizationSourceReference,
    path: T.Optional(T.String("Directory in the artifact to build; its root by default.")),
    interval: duration("How often to rebuild and apply, correcting drift."),
    retryInterval: T.Optional(duration("How soon to retry after a failure; `interval` by default.")),
    timeout: T.Optional(duration("Timeout for build, apply and health checks; `interval` by default.")),
    prune: T.Boolean("Garbage-collect objects that disappear from the source."),
    deletionPolicy: T.Optional(
      T.Enum(Object.values(DeletionPolicy), "What deleting the Kustomization does to its objects; `MirrorPrune` by default."),
    ),
    dependsOn: T.Optional(T.Array(dependencyReference, "Kustomizations that must be ready first.")),
    suspend: T.Optional(T.Boolean("Stop reconciling this Kustomization.")),
    targetNamespace: T.Optional(
      T.String({ description: "Namespace set on every namespaced object.", minLength: 1, maxLength: 63 }),
    ),
    serviceAccountName: T.Optional(T.String("ServiceAccount to impersonate when applying.")),
    kubeConfig: T.Optional(kubeConfigReference),
    wait: T.Optional(T.Boolean("Wait for every applied object to be ready; `healthChecks` is then ignored.")),
    healthChecks: T.Optional(
      T.Array(namespacedObjectKindReference("An object to wait for."), "Objects that must become ready."),
    ),
    healthCheckExprs: T.Optional(T.Array(customHealthCheck, "CEL health checks for custom kinds.")),
    force: T.Optional(
      T.Boolean({ description: "Recreate objects whose immutable fields changed.", default: false }),
    ),
    patches: T.Optional(T.Array(patch, "Patches applied on top of the kustomization.")),
    images: T.Optional(T.Array(image, "Image overrides.")),
    components: T.Optional(T.Array(T.String(), "Kustomize components to include, relative to `path`.")),
    ignoreMissingComponents: T.Optional(T.Boolean("Skip components whose path does not exist.")),
    namePrefix: T.Optional(T.String({ description: "Prefix for every object name.", minLength: 1, maxLength: 200 })),
    nameSuffix: T.Optional(T.String({ description: "Suffix for every object name.", minLength: 1, maxLength: 200 })),
    commonMetadata: T.Optional(commonMetadata),
    buildMetadata: T.Optional(
      T.Array(T.Enum(Object.values(BuildMetadataOption)), "Kustomize build metadata annotations to add."),
    ),
    postBuild: T.Optional(postBuild),
    decryption: T.Optional(decryption),
    ignore: T.Optional(
      T.Array(ignoreRule("Fields to leave alone on matching objects."), "Fields drift correction leaves alone."),
    ),
  },
  "Desired state of a Kustomization.",
);
export type KustomizationSpec = Static<typeof kustomizationSpec>;

export const kustomizationStatus = T.Object(
  {
    ...reconcileStatusProps,
    lastAppliedRevision: T.Optional(T.String("Source revision last applied successfully.")),
    lastAppliedOriginRevision: T.Optional(
      T.String("Origin revision (e.g. the commit an OCI artifact was built from) last applied successfully."),
    ),
    lastAttemptedRevision: T.Optional(T.String("Source revision last attempted.")),
    inventory: T.Optional(resourceInventory),
    history: T.Optional(T.Array(historySnapshot, "Recent reconciliations, newest first.")),
  },
  { description: "Observed state of a Kustomization.", default: statusDefault },
);
export type KustomizationStatus = Static<typeof kustomizationStatus>;

export type Kustomization = KubeObject<
  typeof KustomizationNames.apiVersion,
  typeof KustomizationNames.kind,
  KustomizationSpec,
  KustomizationStatus
>;

export const kustomizationKind = defineKind({
  names: KustomizationNames,
  scope: "Namespaced",
  description: "Kustomization builds manifests from a source artifact and applies them to the cluster.",
  spec: kustomizationSpec,
  status: kustomizationStatus,
  printerColumns: [ageColumn, readyColumn, statusColumn],
});
