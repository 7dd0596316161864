/**
 * Alert (notification.toolkit.fluxcd.io/v1beta3): which events, from which objects, go to which
 * Provider. Static: Flux writes no status. Spec: notification-controller docs/spec/v1beta3/alerts.md.
 */
import { ageColumn, defineKind } from "../../crd";
import { localObjectReference, type KubeObject } from "../../meta";
import { T, type Static } from "../../schema";
import { NotificationGroup, NotificationV1Beta3, NotificationV1Beta3ApiVersion, notificationCategories } from "../group-version";
import { crossNamespaceObjectReference } from "../v1/cross-namespace-reference";
import { staticStatus, type StaticStatus } from "./static-status";

export const AlertNames = {
  group: NotificationGroup,
  version: NotificationV1Beta3,
  apiVersion: NotificationV1Beta3ApiVersion,
  kind: "Alert",
  listKind: "AlertList",
  plural: "alerts",
  singular: "alert",
  shortNames: [],
  categories: notificationCategories,
} as const;

/** `info` lets every event through; `error` only error events. */
export const EventSeverity = { Info: "info", Error: "error" } as const;
export type EventSeverity = (typeof EventSeverity)[keyof typeof EventSeverity];

export const alertSpec = T.Object(
  {
    providerRef: localObjectReference("Provider (same namespace) the matching events are sent to."),
    eventSeverity: T.Optional(
      T.Enum(Object.values(EventSeverity), {
        description: "Severity filter: `info` sends every event, `error` only errors.",
        default: EventSeverity.Info,
      }),
    ),
    eventSources: T.Array(crossNamespaceObjectReference, "Objects whose events this Alert sends."),
    inclusionList: T.Optional(
      T.Array(T.String(), "Regular expressions (Go syntax); when set, only messages matching one are sent."),
    ),
    eventMetadata: T.Optional(
      T.Map(T.String(), "Metadata added to each event sent; never overrides the emitter's own keys."),
    ),
    exclusionList: T.Optional(T.Array(T.String(), "Regular expressions (Go syntax); messages matching one are dropped.")),
    summary: T.Optional(
      T.String({ description: "Deprecated: use eventMetadata.summary. Short impact description.", maxLength: 255 }),
    ),
    suspend: T.Optional(T.Boolean("Stop sending events for this Alert.")),
  },
  "Desired state of an Alert.",
);
export type AlertSpec = Static<typeof alertSpec>;

export type Alert = KubeObject<typeof AlertNames.apiVersion, typeof AlertNames.kind, AlertSpec, StaticStatus>;

export const alertKind = defineKind({
  names: AlertNames,
  scope: "Namespaced",
  description: "Alert selects events by source, severity and message and sends them to a Provider.",
  spec: alertSpec,
  status: staticStatus,
  printerColumns: [ageColumn],
});
