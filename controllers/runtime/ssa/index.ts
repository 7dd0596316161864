// Server-side apply, inventory, prune and wait, shared by the appliers (kustomize, helm).
// Re-exports only.
export * from "./apply-memo";
export * from "./changeset";
export * from "./errors";
export * from "./inventory";
export * from "./limit";
export * from "./manager";
export * from "./manager-apply";
export * from "./manager-cleanup";
export * from "./manager-delete";
export * from "./manager-existing";
export * from "./manager-wait";
export * from "./metadata";
export * from "./normalize";
export * from "./object-id";
export * from "./rest-mapper";
export * from "./sort";
