/**
 * Schemas shared by Kustomization and HelmRelease (Flux's fluxcd/pkg `apis/kustomize`):
 * image overrides, patches, target selectors, custom health checks and drift-ignore rules.
 */
import { T, type Static } from "./schema";

/** Selects objects by group, version, kind, name, namespace and label or annotation selectors. */
export const selector = (description: string) =>
  T.Object(
    {
      group: T.Optional(T.String("API group, as a regular expression.")),
      version: T.Optional(T.String("API version, as a regular expression.")),
      kind: T.Optional(T.String("Kind, as a regular expression.")),
      name: T.Optional(T.String("Name, as a regular expression.")),
      namespace: T.Optional(T.String("Namespace, as a regular expression.")),
      annotationSelector: T.Optional(T.String("Annotation selector, in label-selector syntax.")),
      labelSelector: T.Optional(T.String("Label selector.")),
    },
    description,
  );
export type Selector = Static<ReturnType<typeof selector>>;

/** A strategic-merge or JSON6902 patch, applied to the objects its target selects. */
export const patch = T.Object(
  {
    patch: T.String("Strategic merge or JSON6902 patch, as YAML or JSON; may hold several documents."),
    target: T.Optional(selector("Objects to patch; without a target, the patch names its object itself.")),
  },
  "A kustomize patch.",
);
export type Patch = Static<typeof patch>;

/** Overrides the name, tag or digest of a container image. */
export const image = T.Object(
  {
    name: T.String("Image name to match, without tag or digest."),
    newName: T.Optional(T.String("Replacement image name.")),
    newTag: T.Optional(T.String("Replacement tag.")),
    digest: T.Optional(T.String("Replacement digest; takes precedence over newTag.")),
  },
  "A kustomize image override.",
);
export type Image = Static<typeof image>;

/** Health of custom resources expressed as CEL; the object's top-level fields (`status`, `metadata`, ...) are the variables. */
export const customHealthCheck = T.Object(
  {
    apiVersion: T.String("API version of the kind checked."),
    kind: T.Optional(T.String("Kind checked.")),
    current: T.String("CEL expression true when the object is healthy."),
    inProgress: T.Optional(T.String("CEL expression true while the object is still progressing.")),
    failed: T.Optional(T.String("CEL expression true when the object has failed.")),
  },
  "CEL health check for a kind.",
);
export type CustomHealthCheck = Static<typeof customHealthCheck>;

/** JSON pointers to leave out when comparing or applying objects. */
export const ignoreRule = (description: string) =>
  T.Object(
    {
      paths: T.Array(T.String(), "JSON pointers (RFC 6901) of the fields to ignore."),
      target: T.Optional(selector("Objects the rule applies to; all objects when unset.")),
    },
    description,
  );
export type IgnoreRule = Static<ReturnType<typeof ignoreRule>>;

/** Labels and annotations added to every object an applier creates. */
export const commonMetadata = T.Object(
  {
    annotations: T.Optional(T.Map(T.String(), "Annotations added to every object.")),
    labels: T.Optional(T.Map(T.String(), "Labels added to every object.")),
  },
  "Labels and annotations added to every applied object.",
);
export type CommonMetadata = Static<typeof commonMetadata>;
