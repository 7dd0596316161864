/** notification.toolkit.fluxcd.io: Provider and Alert v1beta3, Receiver v1. Re-exports only. */
export * from "./group-version";
export * from "./v1/cross-namespace-reference";
export * from "./v1/receiver";
export * from "./v1beta3/static-status";
export * from "./v1beta3/provider";
export * from "./v1beta3/alert";
