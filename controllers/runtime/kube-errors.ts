// Errors from the API server, carrying the HTTP status and the Status object's reason.

/** The `Status` object the API server returns with errors (and in watch ERROR events). */
export interface KubeStatus {
  kind?: "Status";
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: Record<string, unknown>;
}

export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly statusCode: number;
  readonly reason: string;
  readonly status?: KubeStatus;

  constructor(method: string, path: string, statusCode: number, status?: KubeStatus, options?: ErrorOptions) {
    const reason = status?.reason ?? "";
    const detail = status?.message ?? (reason || `HTTP ${statusCode}`);
    super(`${method} ${path}: ${statusCode}${reason ? ` ${reason}` : ""}: ${detail}`, options);
    this.statusCode = statusCode;
    this.reason = reason;
    this.status = status;
  }
}

/** A request that never got an HTTP answer (connection refused, reset, timed out). */
export class KubeTransportError extends Error {
  override readonly name = "KubeTransportError";
  constructor(method: string, path: string, cause: unknown) {
    super(`${method} ${path}: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

function code(e: unknown): number | undefined {
  return e instanceof KubeApiError ? e.statusCode : undefined;
}

export const isNotFound = (e: unknown): boolean => code(e) === 404;
export const isConflict = (e: unknown): boolean => code(e) === 409 && (e as KubeApiError).reason !== "AlreadyExists";
export const isAlreadyExists = (e: unknown): boolean => code(e) === 409 && (e as KubeApiError).reason === "AlreadyExists";
/** 410 Gone: a resourceVersion (watch or list continue token) is too old. */
export const isGone = (e: unknown): boolean => code(e) === 410;
export const isInvalid = (e: unknown): boolean => code(e) === 422;
export const isForbidden = (e: unknown): boolean => code(e) === 403;
export const isTooManyRequests = (e: unknown): boolean => code(e) === 429;
