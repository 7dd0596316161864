/**
 * CrossNamespaceObjectReference of notification.toolkit.fluxcd.io/v1: the objects an Alert listens
 * to (eventSources) and a Receiver asks to reconcile (resources). `name: "*"` with `matchLabels`
 * selects by label.
 */
import { T, type Static } from "../../schema";

/** The kinds Flux accepts in an event source or a receiver resource. */
export const FluxObjectKind = [
  "Bucket",
  "GitRepository",
  "Kustomization",
  "HelmRelease",
  "HelmChart",
  "HelmRepository",
  "ImageRepository",
  "ImagePolicy",
  "ImageUpdateAutomation",
  "OCIRepository",
  "ArtifactGenerator",
  "ExternalArtifact",
] as const;
export type FluxObjectKind = (typeof FluxObjectKind)[number];

/** The properties, spread into Receiver's resource entries (Go's `inline`). */
export const crossNamespaceObjectReferenceProps = {
  apiVersion: T.Optional(T.String("API version of the referent, e.g. `source.toolkit.fluxcd.io/v1`.")),
  kind: T.Enum(FluxObjectKind, "Kind of the referent."),
  name: T.String({ description: "Name of the referent, or `*` to select by matchLabels.", minLength: 1, maxLength: 253 }),
  namespace: T.Optional(
    T.String({ description: "Namespace of the referent; the referrer's by default.", minLength: 1, maxLength: 253 }),
  ),
  matchLabels: T.Optional(
    T.Map(T.String(), "Labels the referents must all have (ANDed); requires `name: \"*\"`."),
  ),
};

export const crossNamespaceObjectReference = T.Object(
  crossNamespaceObjectReferenceProps,
  "A Flux object in any namespace, by name or (with `*`) by labels.",
);
export type CrossNamespaceObjectReference = Static<typeof crossNamespaceObjectReference>;
