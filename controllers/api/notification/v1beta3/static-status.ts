/**
 * Provider and Alert v1beta3 are static in Flux: no reconciler writes their status, and Flux's
 * CRD has neither a status field nor the status subresource. `defineKind` always emits both, so
 * here the status is an empty object nothing writes; kubectl, the flux CLI and manifests see no
 * difference (a status written by hand is pruned to `{}`).
 */
import { T } from "../../schema";

export const staticStatus = T.Object({}, "Unused: Flux keeps this kind static, with no status.");
export type StaticStatus = Record<string, never>;
