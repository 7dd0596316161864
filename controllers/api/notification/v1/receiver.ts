/**
 * Receiver (notification.toolkit.fluxcd.io/v1): an incoming webhook at
 * `/hook/sha256(token+name+namespace)` that asks the listed Flux objects to reconcile now.
 * Spec: notification-controller docs/spec/v1/receivers.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import { duration, localObjectReference, reconcileStatusProps, statusDefault, type KubeObject } from "../../meta";
import { T, type Static, type TSchema } from "../../schema";
import { NotificationGroup, NotificationV1, NotificationV1ApiVersion, notificationCategories } from "../group-version";
import { crossNamespaceObjectReferenceProps } from "./cross-namespace-reference";

export const ReceiverNames = {
  group: NotificationGroup,
  version: NotificationV1,
  apiVersion: NotificationV1ApiVersion,
  kind: "Receiver",
  listKind: "ReceiverList",
  plural: "receivers",
  singular: "receiver",
  shortNames: [],
  categories: notificationCategories,
} as const;

/** Webhook senders, each with its own validation of the request. */
export const ReceiverType = {
  Generic: "generic",
  GenericHMAC: "generic-hmac",
  GenericOIDC: "generic-oidc",
  GitHub: "github",
  GitLab: "gitlab",
  Bitbucket: "bitbucket",
  Harbor: "harbor",
  DockerHub: "dockerhub",
  Quay: "quay",
  GCR: "gcr",
  Nexus: "nexus",
  ACR: "acr",
  CDEvents: "cdevents",
} as const;
export type ReceiverType = (typeof ReceiverType)[keyof typeof ReceiverType];

/** Prefix of every receiver's `status.webhookPath`. */
export const ReceiverWebhookPath = "/hook/";
/** Receiver `spec.interval` when unset. */
export const DefaultReceiverInterval = "10m";

/** Adds Kubernetes list-map semantics (merge by key) to an array schema; the builder has no option for it. */
function listMap<S extends TSchema>(schema: S, key: string): S {
  return Object.assign(schema, { "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [key] });
}

export const receiverResource = T.Object(
  {
    ...crossNamespaceObjectReferenceProps,
    filter: T.Optional(
      T.String("CEL expression over `res` and `req` (and `claims`); the object is reconciled only when it returns true."),
    ),
  },
  "A Flux object (or, with `*`, objects by label) to reconcile when the webhook is called.",
);
export type ReceiverResource = Static<typeof receiverResource>;

export const oidcProvider = T.Object(
  {
    issuerURL: T.String({ description: "OIDC issuer; must equal the token's `iss` claim.", pattern: "^https?://" }),
    audience: T.Optional(T.String("Expected `aud` claim; `notification-controller` by default.")),
    variables: T.Optional(
      T.Array(
        T.Object(
          {
            name: T.String("Variable name, a CEL identifier."),
            expression: T.String("CEL expression giving the value of `vars.<name>`."),
          },
          "A named CEL expression over the token claims.",
        ),
        "Named CEL expressions, evaluated in order.",
      ),
    ),
    validations: T.Array(
      T.Object(
        {
          expression: T.String("CEL boolean expression over `claims` and `vars`."),
          message: T.String("Returned to the caller when the expression is false."),
        },
        "A check on the token claims.",
      ),
      { description: "Checks the claims must all pass.", minItems: 1 },
    ),
  },
  "An OIDC issuer trusted by a `generic-oidc` Receiver.",
);
export type OIDCProvider = Static<typeof oidcProvider>;

export const receiverSpec = T.Object(
  {
    type: T.Enum(Object.values(ReceiverType), "Webhook sender: decides how requests are validated."),
    interval: T.Optional(duration("How often to re-check the Secret.", DefaultReceiverInterval)),
    events: T.Optional(T.Array(T.String(), "Event types to act on, e.g. `push` (GitHub) or `Push Hook` (GitLab).")),
    resources: T.Array(receiverResource, "Objects to reconcile when the webhook is called."),
    resourceFilter: T.Optional(
      T.String("CEL expression over `res` and `req` (and `claims`) deciding which resources are reconciled."),
    ),
    secretRef: T.Optional(
      localObjectReference("Secret whose `token` salts the webhook path and validates requests (not for generic-oidc)."),
    ),
    oidcProviders: T.Optional(
      listMap(T.Array(oidcProvider, "Trusted OIDC issuers of a `generic-oidc` Receiver."), "issuerURL"),
    ),
    suspend: T.Optional(T.Boolean("Stop handling requests for this Receiver.")),
  },
  {
    description: "Desired state of a Receiver.",
    validations: [
      {
        message: "generic-oidc receivers must define at least one oidcProvider",
        rule: "self.type != 'generic-oidc' || (has(self.oidcProviders) && size(self.oidcProviders) > 0)",
      },
      {
        message: "oidcProviders can only be set when type is generic-oidc",
        rule: "self.type == 'generic-oidc' || !has(self.oidcProviders) || size(self.oidcProviders) == 0",
      },
      {
        message: "secretRef cannot be set when type is generic-oidc",
        rule: "self.type != 'generic-oidc' || !has(self.secretRef)",
      },
      {
        message: "secretRef is required when type is not generic-oidc",
        rule: "self.type == 'generic-oidc' || has(self.secretRef)",
      },
    ],
  },
);
export type ReceiverSpec = Static<typeof receiverSpec>;

export const receiverStatus = T.Object(
  {
    ...reconcileStatusProps,
    webhookPath: T.Optional(T.String("The webhook path, `/hook/sha256(token+name+namespace)`.")),
  },
  { description: "Observed state of a Receiver.", default: statusDefault },
);
export type ReceiverStatus = Static<typeof receiverStatus>;

export type Receiver = KubeObject<
  typeof ReceiverNames.apiVersion,
  typeof ReceiverNames.kind,
  ReceiverSpec,
  ReceiverStatus
>;

export const receiverKind = defineKind({
  names: ReceiverNames,
  scope: "Namespaced",
  description: "Receiver is an incoming webhook that asks Flux objects to reconcile now.",
  spec: receiverSpec,
  status: receiverStatus,
  printerColumns: [ageColumn, readyColumn, statusColumn],
});
