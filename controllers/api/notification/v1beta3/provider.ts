/**
 * Provider (notification.toolkit.fluxcd.io/v1beta3): where notification-controller sends the
 * events Alerts select (chat, webhooks, commit statuses...). Static: Flux writes no status.
 * Spec: notification-controller docs/spec/v1beta3/providers.md.
 */
import { ageColumn, defineKind } from "../../crd";
import { DurationPattern, ShortDurationPattern, localObjectReference, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { NotificationGroup, NotificationV1Beta3, NotificationV1Beta3ApiVersion, notificationCategories } from "../group-version";
import { staticStatus, type StaticStatus } from "./static-status";

export const ProviderNames = {
  group: NotificationGroup,
  version: NotificationV1Beta3,
  apiVersion: NotificationV1Beta3ApiVersion,
  kind: "Provider",
  listKind: "ProviderList",
  plural: "providers",
  singular: "provider",
  shortNames: [],
  categories: notificationCategories,
} as const;

/** Every provider type the Flux API accepts (in Flux's enum order). */
export const ProviderType = {
  Slack: "slack",
  Discord: "discord",
  MSTeams: "msteams",
  Rocket: "rocket",
  Generic: "generic",
  GenericHMAC: "generic-hmac",
  GitHub: "github",
  GitLab: "gitlab",
  Gitea: "gitea",
  GiteaPullRequestComment: "giteapullrequestcomment",
  BitbucketServer: "bitbucketserver",
  Bitbucket: "bitbucket",
  AzureDevOps: "azuredevops",
  GoogleChat: "googlechat",
  GooglePubSub: "googlepubsub",
  Webex: "webex",
  Sentry: "sentry",
  AzureEventHub: "azureeventhub",
  Telegram: "telegram",
  Lark: "lark",
  Matrix: "matrix",
  Opsgenie: "opsgenie",
  AlertManager: "alertmanager",
  Grafana: "grafana",
  GitHubDispatch: "githubdispatch",
  GitHubPullRequestComment: "githubpullrequestcomment",
  GitLabMergeRequestComment: "gitlabmergerequestcomment",
  PagerDuty: "pagerduty",
  DataDog: "datadog",
  NATS: "nats",
  Zulip: "zulip",
  OTEL: "otel",
} as const;
export type ProviderType = (typeof ProviderType)[keyof typeof ProviderType];

/** Timeout for sending to a Provider when `spec.timeout` is unset. */
export const DefaultProviderTimeout = "15s";

export const providerSpec = T.Object(
  {
    type: T.Enum(Object.values(ProviderType), "Which Provider implementation sends the events."),
    interval: T.Optional(
      T.String({ description: "Deprecated and unused in v1beta3.", pattern: DurationPattern }),
    ),
    channel: T.Optional(T.String({ description: "Destination channel, for chat providers.", maxLength: 2048 })),
    username: T.Optional(T.String({ description: "Name the events are posted under.", maxLength: 2048 })),
    address: T.Optional(
      T.String({
        description: "Where events are sent: an HTTP/S URL for webhook types (overridden by the Secret's `address`).",
        maxLength: 2048,
      }),
    ),
    timeout: T.Optional(
      T.String({ description: "Timeout for sending an event; 15s when unset.", pattern: ShortDurationPattern }),
    ),
    proxy: T.Optional(
      T.String({
        description: "Deprecated: use proxySecretRef. HTTP/S address of a proxy.",
        pattern: "^(http|https)://.*$",
        maxLength: 2048,
      }),
    ),
    proxySecretRef: T.Optional(
      localObjectReference("Secret with the proxy's `address` and optional `username` and `password`."),
    ),
    secretRef: T.Optional(
      localObjectReference(
        "Secret with credentials: `address`, `token`, `username`, `password`, `headers` (YAML map), `proxy`.",
      ),
    ),
    serviceAccountName: T.Optional(
      T.String("ServiceAccount for workload identity (azureeventhub, azuredevops, googlepubsub)."),
    ),
    certSecretRef: T.Optional(
      localObjectReference("Secret with TLS material: `ca.crt`, and `tls.crt` + `tls.key` for mutual TLS."),
    ),
    suspend: T.Optional(T.Boolean("Stop sending events to this Provider.")),
    commitStatusExpr: T.Optional(
      T.String("CEL expression over event, provider and alert giving the commit status text (git providers only)."),
    ),
  },
  {
    description: "Desired state of a Provider.",
    validations: [
      {
        message:
          "spec.commitStatusExpr is only supported for the 'github', 'gitlab', 'gitea', 'bitbucketserver', 'bitbucket', 'azuredevops' provider types",
        rule:
          "self.type == 'github' || self.type == 'gitlab' || self.type == 'gitea' || self.type == 'bitbucketserver' || self.type == 'bitbucket' || self.type == 'azuredevops' || !has(self.commitStatusExpr)",
      },
    ],
  },
);
export type ProviderSpec = Static<typeof providerSpec>;

export type Provider = KubeObject<
  typeof ProviderNames.apiVersion,
  typeof ProviderNames.kind,
  ProviderSpec,
  StaticStatus
>;

export const providerKind = defineKind({
  names: ProviderNames,
  scope: "Namespaced",
  description: "Provider is where notification-controller sends the events Alerts select.",
  spec: providerSpec,
  status: staticStatus,
  printerColumns: [ageColumn],
});
