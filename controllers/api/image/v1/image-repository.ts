/**
 * ImageRepository (image.toolkit.fluxcd.io/v1): scans an image repository for its tags.
 * Spec: image-reflector-controller docs/spec/v1/imagerepositories.md; schema as its
 * config/crd/bases/image.toolkit.fluxcd.io_imagerepositories.yaml.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { duration, localObjectReference, reconcileStatusProps, ShortDurationPattern, statusDefault, timestamp, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { ImageApiVersion, ImageGroup, ImageVersion, imageCategories } from "./group-version";

export const ImageRepositoryNames = {
  group: ImageGroup,
  version: ImageVersion,
  apiVersion: ImageApiVersion,
  kind: "ImageRepository",
  listKind: "ImageRepositoryList",
  plural: "imagerepositories",
  singular: "imagerepository",
  shortNames: ["imgrepo", "imagerepo"],
  categories: imageCategories,
} as const;

/** Cosign signatures are not deployable images: excluded unless spec.exclusionList says otherwise. */
export const DefaultExclusionList = ["^.*\\.sig$"];

export const imageRepositorySpec = T.Object(
  {
    image: T.String("Image repository to scan, without scheme or tag, e.g. `ghcr.io/org/app`."),
    interval: duration("How often to scan the repository."),
    timeout: T.Optional(T.String({ description: "Timeout of the scan; spec.interval when unset.", pattern: ShortDurationPattern })),
    secretRef: T.Optional(localObjectReference("Secret of type kubernetes.io/dockerconfigjson with registry credentials.")),
    proxySecretRef: T.Optional(localObjectReference("Secret with the proxy to use for the registry (not supported by this controller yet).")),
    serviceAccountName: T.Optional(T.String({ description: "ServiceAccount whose image pull secrets authenticate the scan.", maxLength: 253 })),
    certSecretRef: T.Optional(localObjectReference("Secret with `ca.crt` and/or `tls.crt` + `tls.key` for TLS to the registry.")),
    suspend: T.Optional(T.Boolean("Stop scanning this repository.")),
    accessFrom: T.Optional(T.Object(
      {
        namespaceSelectors: T.Array(
          T.Object({ matchLabels: T.Optional(T.Map(T.String(), "Labels a namespace must have; empty matches every namespace.")) }, "A namespace selector."),
          "Namespaces whose ImagePolicies may use this repository.",
        ),
      },
      "Which other namespaces' ImagePolicies may reference this ImageRepository.",
    )),
    exclusionList: T.Optional(T.Array(T.String(), {
      description: "Regular expressions of tags to leave out of the scan result.",
      default: DefaultExclusionList, maxItems: 25,
    })),
    provider: T.Optional(T.Enum(["generic", "aws", "azure", "gcp"], { description: "Registry authentication provider.", default: "generic" })),
    insecure: T.Optional(T.Boolean("Allow a plain-HTTP registry.")),
  },
  "Desired state of an ImageRepository.",
);
export type ImageRepositorySpec = Static<typeof imageRepositorySpec>;

export const scanResult = T.Object(
  {
    revision: T.Optional(T.String("Stable hash of the scanned tags.")),
    tagCount: T.Integer("Number of tags found, after the exclusion list."),
    scanTime: T.Optional(timestamp("When the scan happened.")),
    latestTags: T.Optional(T.Array(T.String(), "The first 10 tags in descending alphabetical order.")),
  },
  "Result of the last scan.",
);
export type ScanResult = Static<typeof scanResult>;

export const imageRepositoryStatus = T.Object(
  {
    observedGeneration: reconcileStatusProps.observedGeneration,
    conditions: reconcileStatusProps.conditions,
    canonicalImageName: T.Optional(T.String("spec.image with the implied parts made explicit.")),
    lastScanResult: T.Optional(scanResult),
    observedExclusionList: T.Optional(T.Array(T.String(), "The exclusion list of the last scan result.")),
    lastHandledReconcileAt: reconcileStatusProps.lastHandledReconcileAt,
  },
  { description: "Observed state of an ImageRepository.", default: statusDefault },
);
export type ImageRepositoryStatus = Static<typeof imageRepositoryStatus>;

export type ImageRepository = KubeObject<typeof ImageRepositoryNames.apiVersion, typeof ImageRepositoryNames.kind, ImageRepositorySpec, ImageRepositoryStatus>;

export const imageRepositoryKind = defineKind({
  names: ImageRepositoryNames,
  scope: "Namespaced",
  description: "ImageRepository is the Schema for the imagerepositories API: it scans an image repository for tags.",
  spec: imageRepositorySpec,
  status: imageRepositoryStatus,
  printerColumns: [
    { name: "Image", type: "string", jsonPath: ".spec.image" },
    { name: "Tags", type: "string", jsonPath: ".status.lastScanResult.tagCount" },
    readyColumn, statusColumn,
    { name: "Last scan", type: "string", jsonPath: ".status.lastScanResult.scanTime", priority: 1 },
    ageColumn,
  ],
});
