/**
 * ArtifactGenerator (source.extensions.fluxcd.io/v1beta1): source-watcher's kind. It composes
 * files of several sources into ExternalArtifacts, or splits one source into several.
 * Spec: fluxcd/source-watcher docs/spec/v1beta1/artifactgenerators.md; schema held to the
 * kubebuilder markers of github.com/fluxcd/source-watcher/api/v2@v2.2.4 (artifactgenerator_types.go).
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { condition, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";

export const SourceExtensionsGroup = "source.extensions.fluxcd.io";
export const SourceExtensionsVersion = "v1beta1";

export const ArtifactGeneratorNames = {
  group: SourceExtensionsGroup,
  version: SourceExtensionsVersion,
  apiVersion: `${SourceExtensionsGroup}/${SourceExtensionsVersion}`,
  kind: "ArtifactGenerator",
  listKind: "ArtifactGeneratorList",
  plural: "artifactgenerators",
  singular: "artifactgenerator",
  shortNames: ["ag"],
  categories: ["all", "fluxcd", "fluxcd-sources"],
} as const;

/** Names source-watcher reads and writes. */
export const ArtifactGeneratorMeta = {
  Finalizer: "source.extensions.fluxcd.io/finalizer",
  /** On every generated ExternalArtifact: the generator's UID. */
  GeneratorLabel: "source.extensions.fluxcd.io/generator",
  /** `Disabled` (any case) suspends the generator. */
  ReconcileAnnotation: "source.extensions.fluxcd.io/reconcile",
  /** Artifact metadata key of `originRevision`. */
  OriginRevisionAnnotation: "org.opencontainers.image.revision",
  ControllerName: "source-watcher",
} as const;

/** Reasons of source-watcher beyond the common ones (Succeeded, Progressing, BuildFailed, ...). */
export const ArtifactGeneratorReason = {
  ReconciliationDisabled: "ReconciliationDisabled",
  AccessDenied: "AccessDenied",
  ValidationFailed: "ValidationFailed",
  SourceFetchFailed: "SourceFetchFailed",
} as const;

export const ArtifactGeneratorSourceKinds = ["Bucket", "GitRepository", "OCIRepository", "HelmChart", "ExternalArtifact"] as const;
export const CopyStrategies = ["Overwrite", "Merge", "Extract"] as const;

const aliasPattern = "^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$";
const aliasPathPattern = "^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)/(.*)$";
const aliasRefPattern = "^@([a-z0-9]([a-z0-9_-]*[a-z0-9])?)$";
/** `@artifact/<path>` with no `.` or `..` segment. */
const artifactPathPattern = "^@artifact/([^/]{0,1}|[^./][^/]|[.][^./]|[^/]{3,})(/([^/]{0,1}|[^./][^/]|[.][^./]|[^/]{3,}))*$";

export const sourceReference = T.Object(
  {
    alias: T.String({ description: "Name of the source in copy operations (`@<alias>/...`); unique per generator.", pattern: aliasPattern, maxLength: 63 }),
    name: T.String({ description: "Name of the source object.", pattern: "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", maxLength: 253 }),
    namespace: T.Optional(T.String({ description: "Namespace of the source object; default the generator's.", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", minLength: 1, maxLength: 63 })),
    kind: T.Enum(ArtifactGeneratorSourceKinds, "Kind of the source object."),
  },
  "A Flux source whose artifact the generator reads.",
);
export type ArtifactGeneratorSourceReference = Static<typeof sourceReference>;

export const copyOperation = T.Object(
  {
    from: T.String({ description: "`@<alias>/<glob or path>`: the files to copy.", pattern: aliasPathPattern, minLength: 1, maxLength: 1024 }),
    to: T.String({ description: "`@artifact/<path>`: where in the artifact (a trailing slash means a directory).", pattern: artifactPathPattern, minLength: 1, maxLength: 1024 }),
    exclude: T.Optional(T.Array(T.String({ maxLength: 1024 }), { description: "Globs of matched files to leave out (relative to the source root or to the non-glob prefix of `from`; a pattern without `/` matches the file name at any depth).", maxItems: 100 })),
    strategy: T.Optional(T.Enum(CopyStrategies, "Overwrite (default), Merge (YAML, Helm values semantics) or Extract (.tar.gz/.tgz archives).")),
  },
  "One copy operation from a source into the artifact.",
);
export type CopyOperation = Static<typeof copyOperation>;

export const outputArtifact = T.Object(
  {
    name: T.String({ description: "Name of the generated ExternalArtifact.", minLength: 1, maxLength: 253 }),
    revision: T.Optional(T.String({ description: "`@<alias>`: use that source's revision; default `latest@<digest>` of the content.", pattern: aliasRefPattern, maxLength: 64 })),
    originRevision: T.Optional(T.String({ description: "`@<alias>`: that source's (origin) revision in the artifact metadata `org.opencontainers.image.revision`.", pattern: aliasRefPattern, maxLength: 64 })),
    copy: T.Array(copyOperation, { description: "Copy operations, in order; later ones overwrite earlier files.", minItems: 1 }),
  },
  "An ExternalArtifact the generator produces.",
);
export type OutputArtifact = Static<typeof outputArtifact>;

export const artifactGeneratorSpec = T.Object(
  {
    commonMetadata: T.Optional(T.Object({
      annotations: T.Optional(T.Map(T.String(), "Annotations set on every generated ExternalArtifact.")),
      labels: T.Optional(T.Map(T.String(), "Labels set on every generated ExternalArtifact.")),
    }, "Labels and annotations applied to the generated ExternalArtifacts.")),
    sources: T.Array(sourceReference, { description: "The sources the artifacts are built from.", minItems: 1, maxItems: 1000 }),
    pathPattern: T.Optional(T.String({ description: "`@<alias>/<pattern>` with `{capture}` placeholders: one artifact set per matched directory.", pattern: aliasPathPattern, maxLength: 1024 })),
    artifacts: T.Array(outputArtifact, { description: "The ExternalArtifacts to generate.", minItems: 1, maxItems: 1000 }),
  },
  {
    description: "Desired state of an ArtifactGenerator.",
    validations: [{
      rule: "has(self.pathPattern) && size(self.pathPattern) > 0 || self.artifacts.all(a, a.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'))",
      message: "artifact names must be valid Kubernetes object names when pathPattern is not set",
    }],
  },
);
export type ArtifactGeneratorSpec = Static<typeof artifactGeneratorSpec>;

export const externalArtifactReference = T.Object(
  {
    name: T.String("Name of the ExternalArtifact."),
    namespace: T.String("Namespace of the ExternalArtifact."),
    digest: T.String("Digest of its artifact."),
    filename: T.String("File name of its artifact in storage."),
  },
  "A generated ExternalArtifact and its artifact digest.",
);
export type ExternalArtifactReference = Static<typeof externalArtifactReference>;

/** No observedGeneration: source-watcher keeps it on the Ready condition only. */
export const artifactGeneratorStatus = T.Object(
  {
    lastHandledReconcileAt: T.Optional(T.String("Last value of the reconcile.fluxcd.io/requestedAt annotation the controller acted on.")),
    conditions: T.Optional(T.Array(condition, "Current state of the object.")),
    inventory: T.Optional(T.Array(externalArtifactReference, "The ExternalArtifacts generated.")),
    observedSourcesDigest: T.Optional(T.String("Hash of the sources' artifacts (revision, digest, URL) last built from.")),
  },
  "Observed state of an ArtifactGenerator.",
);
export type ArtifactGeneratorStatus = Static<typeof artifactGeneratorStatus>;

export type ArtifactGenerator = KubeObject<
  typeof ArtifactGeneratorNames.apiVersion,
  typeof ArtifactGeneratorNames.kind,
  ArtifactGeneratorSpec,
  ArtifactGeneratorStatus
>;

export const artifactGeneratorKind = defineKind({
  names: ArtifactGeneratorNames,
  scope: "Namespaced",
  description: "ArtifactGenerator builds ExternalArtifacts from the artifacts of Flux sources.",
  spec: artifactGeneratorSpec,
  status: artifactGeneratorStatus,
  printerColumns: [ageColumn, readyColumn, statusColumn],
});
