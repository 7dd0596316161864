/**
 * Bucket (source.toolkit.fluxcd.io/v1): downloads the objects of an S3-compatible, GCS or
 * Azure Blob bucket and publishes them as an artifact. Spec: source-controller docs/spec/v1/buckets.md.
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

export const BucketNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "Bucket",
  listKind: "BucketList",
  plural: "buckets",
  singular: "bucket",
  shortNames: [],
  categories: sourceCategories,
} as const;

/** Object storage API: `generic` is any S3-compatible store. */
export const BucketProvider = { Generic: "generic", AWS: "aws", GCP: "gcp", Azure: "azure" } as const;
export type BucketProvider = (typeof BucketProvider)[keyof typeof BucketProvider];

/** Security Token Service kinds: AWS STS for `aws` buckets, LDAP (MinIO) for `generic` ones. */
export const STSProvider = { AWS: "aws", LDAP: "ldap" } as const;
export type STSProvider = (typeof STSProvider)[keyof typeof STSProvider];

export const bucketSTS = T.Object(
  {
    provider: T.Enum(Object.values(STSProvider), "STS kind: `aws` or `ldap`."),
    endpoint: T.String({ description: "HTTP(S) address of the STS.", pattern: "^(http|https)://.*$" }),
    secretRef: T.Optional(
      localObjectReference("Secret with `username` and `password` for the `ldap` STS; not used with `aws`."),
    ),
    certSecretRef: T.Optional(
      localObjectReference("Secret with a client certificate and/or CA for the `ldap` STS; not used with `aws`."),
    ),
  },
  "Security Token Service that issues temporary bucket credentials (aws and generic providers).",
);
export type BucketSTS = Static<typeof bucketSTS>;

export const bucketSpec = T.Object(
  {
    provider: T.Optional(
      T.Enum(Object.values(BucketProvider), { description: "Object storage API.", default: BucketProvider.Generic }),
    ),
    bucketName: T.String("Name of the bucket."),
    endpoint: T.String("Address of the object storage, e.g. `s3.amazonaws.com` or `minio.local:9000`."),
    sts: T.Optional(bucketSTS),
    insecure: T.Optional(T.Boolean("Use plain HTTP to reach the endpoint.")),
    region: T.Optional(T.String("Region of the bucket.")),
    prefix: T.Optional(T.String("Only download objects whose key starts with this prefix.")),
    secretRef: T.Optional(localObjectReference("Secret with the provider's credentials.")),
    serviceAccountName: T.Optional(
      T.String("ServiceAccount whose workload identity authenticates to the bucket (not with `generic`)."),
    ),
    certSecretRef: T.Optional(
      localObjectReference("Secret with a client certificate (`tls.crt`, `tls.key`) and/or CA (`ca.crt`); `generic` only."),
    ),
    proxySecretRef: T.Optional(localObjectReference("Secret with the proxy to use for the endpoint.")),
    interval: duration("How often to check the bucket for changes (approximate, jittered)."),
    timeout: T.Optional(
      T.String({ description: "Timeout for fetch operations.", pattern: ShortDurationPattern, default: "60s" }),
    ),
    ignore: T.Optional(
      T.String("Paths to leave out of the artifact, in .sourceignore (gitignore) format; replaces the defaults."),
    ),
    suspend: T.Optional(T.Boolean("Stop reconciling this Bucket.")),
  },
  {
    description: "Desired state of a Bucket.",
    validations: [
      {
        message: "STS configuration is only supported for the 'aws' and 'generic' Bucket providers",
        rule: "self.provider == 'aws' || self.provider == 'generic' || !has(self.sts)",
      },
      {
        message: "'aws' is the only supported STS provider for the 'aws' Bucket provider",
        rule: "self.provider != 'aws' || !has(self.sts) || self.sts.provider == 'aws'",
      },
      {
        message: "'ldap' is the only supported STS provider for the 'generic' Bucket provider",
        rule: "self.provider != 'generic' || !has(self.sts) || self.sts.provider == 'ldap'",
      },
      {
        message: "spec.sts.secretRef is not required for the 'aws' STS provider",
        rule: "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.secretRef)",
      },
      {
        message: "spec.sts.certSecretRef is not required for the 'aws' STS provider",
        rule: "!has(self.sts) || self.sts.provider != 'aws' || !has(self.sts.certSecretRef)",
      },
      {
        message: "ServiceAccountName is not supported for the 'generic' Bucket provider",
        rule: "self.provider != 'generic' || !has(self.serviceAccountName)",
      },
      {
        message: "cannot set both .spec.secretRef and .spec.serviceAccountName",
        rule: "!has(self.secretRef) || !has(self.serviceAccountName)",
      },
    ],
  },
);
export type BucketSpec = Static<typeof bucketSpec>;

export const bucketStatus = T.Object(
  {
    ...reconcileStatusProps,
    url: T.Optional(T.String("Address of the latest artifact, stable across revisions.")),
    artifact: T.Optional(artifact("Artifact of the last successful reconciliation.")),
    observedIgnore: T.Optional(T.String("The ignore patterns the current artifact was built with.")),
  },
  { description: "Observed state of a Bucket.", default: statusDefault },
);
export type BucketStatus = Static<typeof bucketStatus>;

export type Bucket = KubeObject<typeof BucketNames.apiVersion, typeof BucketNames.kind, BucketSpec, BucketStatus>;

export const bucketKind = defineKind({
  names: BucketNames,
  scope: "Namespaced",
  description: "Bucket produces an artifact from the objects in an object storage bucket.",
  spec: bucketSpec,
  status: bucketStatus,
  printerColumns: [{ name: "Endpoint", type: "string", jsonPath: ".spec.endpoint" }, ageColumn, readyColumn, statusColumn],
});
