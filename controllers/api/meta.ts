/**
 * Names and schemas shared by every Flux API group, as Flux defines them
 * (fluxcd/pkg `apis/meta` plus the condition types and reasons of each controller's API).
 *
 * Controllers use these constants instead of bare strings. Enum-like values are a const object
 * plus a same-named union type.
 */
import { T, type Static } from "./schema";

export * from "./conditions";

// ---------------------------------------------------------------------------------------------
// Annotations, labels, finalizer, field managers
// ---------------------------------------------------------------------------------------------

/** Annotations users and the `flux` CLI set on Flux objects. */
export const Annotation = {
  /** Any new value asks for a reconcile now; echoed in `status.lastHandledReconcileAt`. */
  ReconcileRequestedAt: "reconcile.fluxcd.io/requestedAt",
  /** HelmRelease: with the same value as requestedAt, forces a one-off release. */
  ForceRequestedAt: "reconcile.fluxcd.io/forceAt",
  /** HelmRelease: with the same value as requestedAt, resets the failure counters. */
  ResetRequestedAt: "reconcile.fluxcd.io/resetAt",
} as const;
export type Annotation = (typeof Annotation)[keyof typeof Annotation];

/** The finalizer every Flux controller puts on the objects it reconciles. */
export const Finalizer = "finalizers.fluxcd.io";

/** Labels Flux reads or writes. */
export const Label = {
  /** `Enabled` on a Secret or ConfigMap: changes to it trigger reconciles of the objects using it. */
  Watch: "reconcile.fluxcd.io/watch",
  /** Set on every object a Kustomization applies: the Kustomization's name and namespace. */
  KustomizeName: "kustomize.toolkit.fluxcd.io/name",
  KustomizeNamespace: "kustomize.toolkit.fluxcd.io/namespace",
  /** Set on every object a HelmRelease renders: the HelmRelease's name and namespace. */
  HelmName: "helm.toolkit.fluxcd.io/name",
  HelmNamespace: "helm.toolkit.fluxcd.io/namespace",
} as const;
export const LabelValueWatchEnabled = "Enabled";

/** Per-object policies in manifests applied by a Kustomization (`<group>/<policy>`). */
export const KustomizePolicyAnnotation = {
  /** `Override` (default), `Merge`, `IfNotPresent` or `Ignore`. */
  Ssa: "kustomize.toolkit.fluxcd.io/ssa",
  /** `Enabled`: recreate the object when an immutable field changes. */
  Force: "kustomize.toolkit.fluxcd.io/force",
  /** `Disabled`: never garbage-collect the object. */
  Prune: "kustomize.toolkit.fluxcd.io/prune",
  /** `Disabled`: do not apply the object again once it exists. */
  Reconcile: "kustomize.toolkit.fluxcd.io/reconcile",
  /** `disabled`: do not run post-build variable substitution on the object. */
  Substitute: "kustomize.toolkit.fluxcd.io/substitute",
  /** `Disabled`: do not decrypt the object. */
  Decrypt: "kustomize.toolkit.fluxcd.io/decrypt",
} as const;

/** Controller names, which Flux also uses as server-side apply field managers. */
export const FieldManager = {
  /** source-controller: status patches. */
  Source: "source-controller",
  /** kustomize-controller: objects it applies. */
  Kustomize: "kustomize-controller",
  /** kustomize-controller: its own status patches. */
  KustomizeStatus: "gotk-kustomize-controller",
  /** helm-controller: status patches and released objects. */
  Helm: "helm-controller",
  /** image-reflector-controller: status patches. */
  ImageReflector: "image-reflector-controller",
  /** image-automation-controller: status patches. */
  ImageAutomation: "image-automation-controller",
} as const;

// ---------------------------------------------------------------------------------------------
// Field formats
// ---------------------------------------------------------------------------------------------

/** A Go duration with units ms, s, m or h, e.g. `1m30s` (fields such as `interval`). */
export const DurationPattern = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
/** A Go duration without hours, as source-controller's `timeout` fields accept. */
export const ShortDurationPattern = "^([0-9]+(\\.[0-9]+)?(ms|s|m))+$";
/** An artifact digest, `<algorithm>:<checksum>`. */
export const DigestPattern = "^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$";

/** A duration string field (ms, s, m, h). */
export const duration = (description: string, defaultValue?: string) =>
  T.String({ description, pattern: DurationPattern, ...(defaultValue ? { default: defaultValue } : {}) });

/** An RFC 3339 timestamp field. */
export const timestamp = (description: string) => T.String({ description, format: "date-time" });

/** A 64-bit integer field. */
export const int64 = (description: string) => T.Integer({ description, format: "int64" });

// ---------------------------------------------------------------------------------------------
// Shared schemas
// ---------------------------------------------------------------------------------------------

/** A Kubernetes condition (metav1.Condition), with the API server's own limits. */
export const condition = T.Object(
  {
    type: T.String({
      description: "Type of the condition, in CamelCase or foo.example.com/CamelCase.",
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    }),
    status: T.Enum(["True", "False", "Unknown"], "Status of the condition."),
    observedGeneration: T.Optional(
      T.Integer({
        description: "The metadata.generation the condition was computed from.",
        format: "int64",
        minimum: 0,
      }),
    ),
    lastTransitionTime: timestamp("When the status last changed."),
    reason: T.String({
      description: "Machine-readable CamelCase reason for the last transition.",
      maxLength: 1024,
      minLength: 1,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    }),
    message: T.String({ description: "Human-readable detail of the transition; may be empty.", maxLength: 32768 }),
  },
  "Condition describes one aspect of the object's current state.",
);
export type Condition = Static<typeof condition>;
export type ConditionStatus = Condition["status"];

/** A reference to an object in the same namespace. */
export const localObjectReference = (description: string) =>
  T.Object({ name: T.String("Name of the referenced object.") }, description);
export type LocalObjectReference = Static<ReturnType<typeof localObjectReference>>;

/** A reference to an object of a given kind, in any namespace. */
export const namespacedObjectKindReference = (description: string) =>
  T.Object(
    {
      apiVersion: T.Optional(T.String("API version of the referenced object.")),
      kind: T.String("Kind of the referenced object."),
      name: T.String("Name of the referenced object."),
      namespace: T.Optional(T.String("Namespace of the referenced object; defaults to the referrer's.")),
    },
    description,
  );
export type NamespacedObjectKindReference = Static<ReturnType<typeof namespacedObjectKindReference>>;

/** A reference to a Secret in the same namespace, and optionally one key in it. */
export const secretKeyReference = (description: string) =>
  T.Object(
    {
      name: T.String("Name of the Secret."),
      key: T.Optional(T.String("Key in the Secret; when empty, a default key applies.")),
    },
    description,
  );
export type SecretKeyReference = Static<ReturnType<typeof secretKeyReference>>;

/** A dependency on another object of the same kind, which must be Ready first. */
export const dependencyReference = T.Object(
  {
    name: T.String("Name of the dependency."),
    namespace: T.Optional(T.String("Namespace of the dependency; defaults to the dependent's.")),
    readyExpr: T.Optional(
      T.String("CEL expression over `dep` and `self` that must hold, in place of the Ready check."),
    ),
  },
  "A dependency that must be ready before this object is reconciled.",
);
export type DependencyReference = Static<typeof dependencyReference>;

/** Where to find a kubeconfig, or the cluster details to build one, for a remote cluster. */
export const kubeConfigReference = T.Object(
  {
    configMapRef: T.Optional(
      localObjectReference(
        "ConfigMap with the remote cluster's provider, cluster, address, ca.crt, audiences or serviceAccountName keys, for workload identity.",
      ),
    ),
    secretRef: T.Optional(
      secretKeyReference("Secret holding a kubeconfig, under `value` or `value.yaml` unless key is set."),
    ),
  },
  {
    description: "Kubeconfig for applying to a remote cluster instead of the local one.",
    validations: [
      {
        message: "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
        rule: "has(self.configMapRef) || has(self.secretRef)",
      },
      {
        message: "exactly one of spec.kubeConfig.configMapRef or spec.kubeConfig.secretRef must be specified",
        rule: "!has(self.configMapRef) || !has(self.secretRef)",
      },
    ],
  },
);
export type KubeConfigReference = Static<typeof kubeConfigReference>;

/** The output of a source reconciliation: a tarball (or file) in the controller's storage. */
export const artifact = (description: string) =>
  T.Object(
    {
      path: T.String("Path of the file relative to the root of the artifact storage."),
      url: T.String("HTTP address where consumers download the artifact."),
      revision: T.String("Revision in the origin, e.g. `main@sha1:<commit>` or a chart version."),
      digest: T.String({ description: "Digest of the file, `<algorithm>:<checksum>`.", pattern: DigestPattern }),
      lastUpdateTime: timestamp("When the artifact was last updated."),
      size: T.Optional(int64("Size of the file in bytes.")),
      metadata: T.Optional(T.Map(T.String(), "Upstream metadata, such as OCI annotations.")),
    },
    description,
  );
export type Artifact = Static<ReturnType<typeof artifact>>;

/** The objects an applier created, to garbage-collect what disappears from the source. */
export const resourceInventory = T.Object(
  {
    entries: T.Array(
      T.Object(
        {
          id: T.String("Object id, `<namespace>_<name>_<group>_<kind>`."),
          v: T.String("API version of the object."),
        },
        "One applied object.",
      ),
      "The applied objects.",
    ),
  },
  "Inventory of the objects applied by the last successful reconciliation.",
);
export type ResourceInventory = Static<typeof resourceInventory>;

/** One entry of a reconcile history (fluxcd/pkg `meta.History`), newest first in status. */
export const historySnapshot = T.Object(
  {
    digest: T.String("Checksum `<algo>:<hex>` of the resources reconciled."),
    firstReconciled: timestamp("When this digest was first reconciled."),
    lastReconciled: timestamp("When this digest was last reconciled."),
    lastReconciledDuration: T.String("How long the last reconciliation took, as a Go duration."),
    lastReconciledStatus: T.String("Outcome of the last reconciliation."),
    totalReconciliations: int64("How many times this digest was reconciled."),
    metadata: T.Optional(T.Map(T.String(), "Extra details, such as the source revision.")),
  },
  "A reconciled state and when it was applied.",
);
export type HistorySnapshot = Static<typeof historySnapshot>;

/** The status fields every Flux kind has; spread them into a status schema. */
export const reconcileStatusProps = {
  observedGeneration: T.Optional(int64("Last metadata.generation the controller acted on.")),
  conditions: T.Optional(T.Array(condition, "Current state of the object.")),
  lastHandledReconcileAt: T.Optional(
    T.String("Last value of the reconcile.fluxcd.io/requestedAt annotation the controller acted on."),
  ),
};

/** Status default on every Flux kind: `observedGeneration: -1` until the first reconcile. */
export const statusDefault = { observedGeneration: -1 };

// ---------------------------------------------------------------------------------------------
// Object envelope
// ---------------------------------------------------------------------------------------------

/**
 * The metadata fields controllers read and write (wire format: timestamps are strings).
 * Type aliases rather than interfaces, so they fit `Record<string, unknown>`-shaped parameters.
 */
export type ObjectMeta = {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: unknown[];
};

export type OwnerReference = {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
};

/** A Flux object as read from or written to the API server. */
export type KubeObject<ApiVersion extends string, Kind extends string, Spec, Status> = {
  apiVersion: ApiVersion;
  kind: Kind;
  metadata: ObjectMeta;
  spec: Spec;
  status?: Status;
};
