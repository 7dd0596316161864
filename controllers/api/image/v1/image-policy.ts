/**
 * ImagePolicy (image.toolkit.fluxcd.io/v1): selects the latest tag of an ImageRepository.
 * Spec: image-reflector-controller docs/spec/v1/imagepolicies.md; schema as its
 * config/crd/bases/image.toolkit.fluxcd.io_imagepolicies.yaml.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { duration, reconcileStatusProps, statusDefault, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { ImageApiVersion, ImageGroup, ImageVersion, imageCategories } from "./group-version";

export const ImagePolicyNames = {
  group: ImageGroup,
  version: ImageVersion,
  apiVersion: ImageApiVersion,
  kind: "ImagePolicy",
  listKind: "ImagePolicyList",
  plural: "imagepolicies",
  singular: "imagepolicy",
  shortNames: ["imgpol", "imagepol"],
  categories: imageCategories,
} as const;

export const DigestReflectionPolicy = { Always: "Always", IfNotPresent: "IfNotPresent", Never: "Never" } as const;
export type DigestReflectionPolicy = (typeof DigestReflectionPolicy)[keyof typeof DigestReflectionPolicy];

const order = (what: string) => T.Optional(T.Object(
  { order: T.Optional(T.Enum(["asc", "desc"], { description: "Sort order; the last tag in this order is the latest.", default: "asc" })) },
  `${what} policy.`,
));

export const imagePolicySpec = T.Object(
  {
    imageRepositoryRef: T.Object(
      {
        name: T.String("Name of the ImageRepository."),
        namespace: T.Optional(T.String("Namespace of the ImageRepository; the ImagePolicy's when unset.")),
      },
      "The ImageRepository whose tags the policy chooses from.",
    ),
    policy: T.Object(
      {
        semver: T.Optional(T.Object({ range: T.String("SemVer range (Masterminds syntax) the latest tag must satisfy.") }, "SemVer policy.")),
        alphabetical: order("Alphabetical"),
        numerical: order("Numerical"),
      },
      "How to choose the latest tag: exactly one of semver, alphabetical, numerical.",
    ),
    filterTags: T.Optional(T.Object(
      {
        pattern: T.Optional(T.String("Regular expression tags must match to be considered.")),
        extract: T.Optional(T.String("Replacement (`$name`, `$1`) whose result the policy compares instead of the tag.")),
      },
      "Filters tags before the policy sees them.",
    )),
    digestReflectionPolicy: T.Optional(T.Enum(["Always", "IfNotPresent", "Never"], {
      description: "When to write the digest of the latest tag to status.latestRef.digest.", default: "Never",
    })),
    interval: T.Optional(duration("How often to refresh the digest; only (and then required) with digestReflectionPolicy Always.")),
    suspend: T.Optional(T.Boolean("Stop reconciling this ImagePolicy.")),
  },
  {
    description: "Desired state of an ImagePolicy.",
    validations: [
      { rule: "!has(self.interval) || (has(self.digestReflectionPolicy) && self.digestReflectionPolicy == 'Always')", message: "spec.interval is only accepted when spec.digestReflectionPolicy is set to 'Always'" },
      { rule: "has(self.interval) || !has(self.digestReflectionPolicy) || self.digestReflectionPolicy != 'Always'", message: "spec.interval must be set when spec.digestReflectionPolicy is set to 'Always'" },
    ],
  },
);
export type ImagePolicySpec = Static<typeof imagePolicySpec>;

export const imageRef = (description: string) => T.Object(
  {
    name: T.String("Image name, as spec.image of the ImageRepository."),
    tag: T.String("The selected tag."),
    digest: T.Optional(T.String("Manifest digest of the tag, per digestReflectionPolicy.")),
  },
  description,
);
export type ImageRef = Static<ReturnType<typeof imageRef>>;

export const imagePolicyStatus = T.Object(
  {
    latestRef: T.Optional(imageRef("The latest image the policy selected.")),
    observedPreviousRef: T.Optional(imageRef("The image selected before latestRef.")),
    ...reconcileStatusProps,
  },
  { description: "Observed state of an ImagePolicy.", default: statusDefault },
);
export type ImagePolicyStatus = Static<typeof imagePolicyStatus>;

export type ImagePolicy = KubeObject<typeof ImagePolicyNames.apiVersion, typeof ImagePolicyNames.kind, ImagePolicySpec, ImagePolicyStatus>;

export const imagePolicyKind = defineKind({
  names: ImagePolicyNames,
  scope: "Namespaced",
  description: "ImagePolicy is the Schema for the imagepolicies API: it selects the latest tag of an ImageRepository.",
  spec: imagePolicySpec,
  status: imagePolicyStatus,
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".status.latestRef.name" },
    { name: "Tag", type: "string", jsonPath: ".status.latestRef.tag" },
    readyColumn, statusColumn, ageColumn,
  ],
});
