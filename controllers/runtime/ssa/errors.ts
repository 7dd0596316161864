// Errors of the SSA machinery, worded as Flux words them so messages in status and events
// match (`ConfigMap/ns/name dry-run failed (Invalid): ...`). The API server's own message is
// used, not our transport's request line.
import { KubeApiError } from "../kube-errors";
import { NoKindMatchError } from "./rest-mapper";

/** The API server's message for an API error, else the error's own message. */
export function apiMessage(e: unknown): string {
  if (e instanceof KubeApiError) return e.status?.message || e.reason || `HTTP ${e.statusCode}`;
  return (e as Error)?.message ?? String(e);
}

/** The Status reason of an API error ("Invalid", "Forbidden", ...), or a field manager conflict. */
export function apiReason(e: unknown): string {
  if (!(e instanceof KubeApiError)) return "";
  const causes = (e.status?.details as { causes?: Array<{ reason?: string; type?: string }> } | undefined)?.causes ?? [];
  if (causes.some((c) => c.reason === "FieldManagerConflict" || c.type === "FieldManagerConflict")) return "FieldManagerConflict";
  return e.reason;
}

export class SsaError extends Error {
  override readonly name: string = "SsaError";
  /** `Kind/namespace/name` of the object concerned, when there is one. */
  readonly subject?: string;
  constructor(message: string, subject?: string, options?: ErrorOptions) {
    super(message, options);
    this.subject = subject;
  }
}

/** A server-side dry-run refused the object: nothing of the set is applied. */
export class DryRunError extends SsaError {
  override readonly name = "DryRunError";
  constructor(subject: string, cause: unknown, namespaced?: boolean, namespace?: string) {
    super(dryRunMessage(subject, cause, namespaced, namespace), subject, { cause });
  }
}

function dryRunMessage(subject: string, cause: unknown, namespaced?: boolean, namespace?: string): string {
  if (cause instanceof NoKindMatchError) return `${subject} dry-run failed: ${cause.message}`;
  if (cause instanceof KubeApiError && cause.statusCode === 404) {
    if (namespaced && !namespace) return `${subject} namespace not specified: ${apiMessage(cause)}`;
    return `${subject} not found: ${apiMessage(cause)}`;
  }
  const reason = apiReason(cause);
  return `${subject} dry-run failed${reason ? ` (${reason})` : ""}: ${apiMessage(cause)}`;
}

/** Whether a dry-run error means an immutable field changed (recreate with force). */
export function isImmutableError(e: unknown): boolean {
  if (e instanceof KubeApiError && (e.statusCode === 409 || e.statusCode === 422)) return true;
  return /is\simmutable|immutable\sfield/.test(apiMessage(e));
}
