/**
 * ExternalArtifact (source.toolkit.fluxcd.io/v1): an artifact produced by a controller other than
 * source-controller (e.g. source-watcher's ArtifactGenerator), which Kustomizations and
 * HelmReleases can consume like any source. Spec: source-controller docs/spec/v1/externalartifacts.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { artifact, condition, namespacedObjectKindReference, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { SourceApiVersion, SourceGroup, SourceVersion, sourceCategories } from "./group-version";

export const ExternalArtifactNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "ExternalArtifact",
  listKind: "ExternalArtifactList",
  plural: "externalartifacts",
  singular: "externalartifact",
  shortNames: ["ea"],
  categories: sourceCategories,
} as const;

export const externalArtifactSpec = T.Object(
  {
    sourceRef: T.Optional(namespacedObjectKindReference("Custom resource the artifact is generated for.")),
  },
  "Desired state of an ExternalArtifact.",
);
export type ExternalArtifactSpec = Static<typeof externalArtifactSpec>;

/** Unlike the other kinds, ExternalArtifact has no observedGeneration and no status default. */
export const externalArtifactStatus = T.Object(
  {
    artifact: T.Optional(artifact("The artifact the producing controller published.")),
    conditions: T.Optional(T.Array(condition, "Current state of the object.")),
  },
  "Observed state of an ExternalArtifact.",
);
export type ExternalArtifactStatus = Static<typeof externalArtifactStatus>;

export type ExternalArtifact = KubeObject<
  typeof ExternalArtifactNames.apiVersion,
  typeof ExternalArtifactNames.kind,
  ExternalArtifactSpec,
  ExternalArtifactStatus
>;

export const externalArtifactKind = defineKind({
  names: ExternalArtifactNames,
  scope: "Namespaced",
  description: "ExternalArtifact is an artifact published by a controller other than source-controller.",
  spec: externalArtifactSpec,
  status: externalArtifactStatus,
  printerColumns: [ageColumn, readyColumn, statusColumn, { name: "Source", type: "string", jsonPath: ".spec.sourceRef.name" }],
});
