/**
 * The notification.toolkit.fluxcd.io API group: names shared by its kinds. Flux serves
 * Provider and Alert at v1beta3 (static objects, no status) and Receiver at v1.
 */

export const NotificationGroup = "notification.toolkit.fluxcd.io";
export const NotificationV1 = "v1";
export const NotificationV1Beta3 = "v1beta3";
export const NotificationV1ApiVersion = `${NotificationGroup}/${NotificationV1}` as const;
export const NotificationV1Beta3ApiVersion = `${NotificationGroup}/${NotificationV1Beta3}` as const;

/** `kubectl get fluxcd-notifications` lists Providers, Alerts and Receivers. */
export const notificationCategories = ["all", "fluxcd", "fluxcd-notifications"] as const;

/** notification-controller's name: its events' reportingController and its status field manager. */
export const NotificationController = "notification-controller";

/** Reasons notification-controller writes on Receivers and in the Events it records. */
export const NotificationReason = {
  /** Receiver: the spec cannot be served (Flux: ValidationFailedReason). */
  ValidationFailed: "ValidationFailed",
  /** Receiver: the Secret or its `token` key is missing. */
  TokenNotFound: "TokenNotFound",
  /** Event on an Alert or Provider: its configuration cannot work (bad regex, missing Provider...). */
  InvalidConfig: "InvalidConfig",
  /** Event on an Alert: an event matched but could not be sent to the Provider. */
  NotificationDispatchFailed: "NotificationDispatchFailed",
} as const;
