/**
 * ImageUpdateAutomation (image.toolkit.fluxcd.io/v1): commits the latest images the
 * ImagePolicies select into a Git repository. Spec: image-automation-controller
 * docs/spec/v1/imageupdateautomations.md; schema as its
 * config/crd/bases/image.toolkit.fluxcd.io_imageupdateautomations.yaml (v1.2).
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { duration, localObjectReference, reconcileStatusProps, statusDefault, timestamp, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { gitRepositoryRef } from "../../source/v1/git-repository";
import { imageRef } from "./image-policy";
import { ImageApiVersion, ImageGroup, ImageVersion, imageCategories } from "./group-version";

export const ImageUpdateAutomationNames = {
  group: ImageGroup,
  version: ImageVersion,
  apiVersion: ImageApiVersion,
  kind: "ImageUpdateAutomation",
  listKind: "ImageUpdateAutomationList",
  plural: "imageupdateautomations",
  singular: "imageupdateautomation",
  shortNames: ["iua", "imgupd", "imgauto"],
  categories: imageCategories,
} as const;

/** Condition reasons of image-automation-controller (api/v1 condition_types.go). */
export const AutomationReason = {
  InvalidUpdateStrategy: "InvalidUpdateStrategy",
  InvalidSourceConfiguration: "InvalidSourceConfiguration",
  SourceManagerFailed: "SourceManagerFailed",
  GitOperationFailed: "GitOperationFailed",
  UpdateFailed: "UpdateFailed",
  InvalidPolicySelector: "InvalidPolicySelector",
  RemovedTemplateField: "RemovedTemplateField",
} as const;

const atomic = <S extends object>(s: S, key: "x-kubernetes-list-type" | "x-kubernetes-map-type"): S => ({ ...s, [key]: "atomic" });

/** metav1.LabelSelector, as Flux's CRD spells it (atomic map and lists). */
const labelSelector = atomic(T.Object(
  {
    matchExpressions: T.Optional(atomic(T.Array(
      T.Object(
        {
          key: T.String("Label key the requirement applies to."),
          operator: T.String("In, NotIn, Exists or DoesNotExist."),
          values: T.Optional(atomic(T.Array(T.String(), "Values for In and NotIn; empty for Exists and DoesNotExist."), "x-kubernetes-list-type")),
        },
        "A label selector requirement.",
      ),
      "Label selector requirements, ANDed.",
    ), "x-kubernetes-list-type")),
    matchLabels: T.Optional(T.Map(T.String(), "Labels a policy must have, ANDed.")),
  },
  "ImagePolicies to consider, by label; every ImagePolicy in the namespace when unset.",
), "x-kubernetes-map-type");

export const imageUpdateAutomationSpec = T.Object(
  {
    sourceRef: T.Object(
      {
        apiVersion: T.Optional(T.String("API version of the referent.")),
        kind: T.Enum(["GitRepository"], { description: "Kind of the referent.", default: "GitRepository" }),
        name: T.String("Name of the GitRepository."),
        namespace: T.Optional(T.String("Namespace of the GitRepository; the automation's when unset.")),
      },
      "The GitRepository to update.",
    ),
    git: T.Optional(T.Object(
      {
        checkout: T.Optional(T.Object(
          { ref: gitRepositoryRef },
          "What to clone before making changes; the GitRepository's spec.ref when unset.",
        )),
        commit: T.Object(
          {
            author: T.Object(
              {
                email: T.String("Email of the commit author."),
                name: T.Optional(T.String("Name of the commit author.")),
              },
              "Author of the commits.",
            ),
            signingKey: T.Optional(T.Object(
              {
                secretRef: localObjectReference("Secret with `git.asc` (ASCII-armored OpenPGP key, optional `passphrase`) for type gpg, or `identity` (optional `password`) for type ssh."),
                type: T.Optional(T.Enum(["gpg", "ssh"], "Key format; gpg when unset.")),
              },
              "Sign commits with this key.",
            )),
            messageTemplate: T.Optional(T.String("Go text/template for the commit message; `.AutomationObject`, `.Changed` and `.Values` are available.")),
            messageTemplateValues: T.Optional(T.Map(T.String(), "Extra values for the template, as `.Values`.")),
          },
          "How to commit.",
        ),
        push: T.Optional(T.Object(
          {
            branch: T.Optional(T.String("Branch to push to, created from the checkout branch when missing.")),
            refspec: T.Optional(T.String({ description: "Refspec to push as well, e.g. `refs/heads/auto:refs/heads/main`; no deletion (`:ref`) or forced (`+`) refspecs.", pattern: "^$|^[^+:]" })),
            options: T.Optional(T.Map(T.String(), "Push options (`git push -o key=value`).")),
          },
          "Where to push; the checkout branch when unset.",
        )),
      },
      "Git checkout, commit and push settings.",
    )),
    interval: duration("How often to run the automation."),
    policySelector: T.Optional(labelSelector),
    update: T.Optional(T.Object(
      {
        path: T.Optional(T.String("Directory whose YAML files are updated; the repository root when unset.")),
        strategy: T.Optional(T.Enum(["Setters"], { description: "Update strategy.", default: "Setters" })),
      },
      { description: "How to update the files.", default: { strategy: "Setters" } },
    )),
    suspend: T.Optional(T.Boolean("Stop running this automation.")),
  },
  "Desired state of an ImageUpdateAutomation.",
);
export type ImageUpdateAutomationSpec = Static<typeof imageUpdateAutomationSpec>;

export const imageUpdateAutomationStatus = T.Object(
  {
    lastAutomationRunTime: T.Optional(timestamp("When the automation last ran to completion, changes or not.")),
    lastPushCommit: T.Optional(T.String("SHA-1 of the last commit the automation pushed.")),
    lastPushTime: T.Optional(timestamp("When the automation last pushed.")),
    observedPolicies: T.Optional(T.Map(imageRef("An image reference."), "Latest images of the ImagePolicies considered in the last run, by policy name.")),
    observedSourceRevision: T.Optional(T.String("Source revision checked out in the last run.")),
    ...reconcileStatusProps,
  },
  { description: "Observed state of an ImageUpdateAutomation.", default: statusDefault },
);
export type ImageUpdateAutomationStatus = Static<typeof imageUpdateAutomationStatus>;

export type ImageUpdateAutomation = KubeObject<typeof ImageUpdateAutomationNames.apiVersion, typeof ImageUpdateAutomationNames.kind, ImageUpdateAutomationSpec, ImageUpdateAutomationStatus>;

export const imageUpdateAutomationKind = defineKind({
  names: ImageUpdateAutomationNames,
  scope: "Namespaced",
  description: "ImageUpdateAutomation is the Schema for the imageupdateautomations API: it commits the latest images selected by ImagePolicies into a Git repository.",
  spec: imageUpdateAutomationSpec,
  status: imageUpdateAutomationStatus,
  printerColumns: [
    readyColumn, statusColumn,
    { name: "Last run", type: "string", jsonPath: ".status.lastAutomationRunTime", priority: 1 },
    ageColumn,
  ],
});
