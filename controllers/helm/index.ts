// helm-controller. Re-exports only.
export * from "./setup";
export * from "./helm-release-reconciler";
