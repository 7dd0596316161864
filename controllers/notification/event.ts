// The event/v1 payload Flux's controllers POST to notification-controller, and what Flux does
// with its metadata before sending it on (RFC 0008): keys prefixed with the involved object's
// API group (e.g. `source.toolkit.fluxcd.io/revision`) become `revision`, object annotations
// under `event.toolkit.fluxcd.io/` become plain keys, and the Alert adds eventMetadata/summary.
import { createHash } from "node:crypto";
import type { Alert } from "../api/notification/v1beta3/alert";
import { groupOf } from "./flux-kinds";

export interface ObjectReference {
  kind: string;
  namespace: string;
  name: string;
  apiVersion?: string;
  uid?: string;
  resourceVersion?: string;
}

export interface FluxEvent {
  involvedObject: ObjectReference;
  relatedObject?: ObjectReference;
  /** `info`, `error` (and `trace`, which controllers never send). */
  severity: string;
  timestamp: string;
  message: string;
  reason: string;
  action?: string;
  metadata?: Record<string, string>;
  reportingController: string;
  reportingInstance?: string;
}

export class EventParseError extends Error {
  override readonly name = "EventParseError";
}

/** The event in a request body; throws EventParseError naming what is wrong. */
export function parseEvent(body: string): FluxEvent {
  let raw: unknown;
  try { raw = JSON.parse(body); } catch (e) { throw new EventParseError(`decoding the request body failed: ${(e as Error).message}`); }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new EventParseError("the request body is not a JSON object");
  const ev = raw as Partial<FluxEvent>;
  const io = ev.involvedObject;
  if (!io || typeof io !== "object") throw new EventParseError("involvedObject is required");
  for (const f of ["kind", "name", "namespace"] as const) {
    if (typeof io[f] !== "string" || !io[f]) throw new EventParseError(`involvedObject.${f} is required`);
  }
  for (const f of ["severity", "message", "reason"] as const) {
    if (typeof ev[f] !== "string") throw new EventParseError(`${f} is required`);
  }
  if (ev.metadata !== undefined && (typeof ev.metadata !== "object" || ev.metadata === null
    || Object.values(ev.metadata).some((v) => typeof v !== "string"))) {
    throw new EventParseError("metadata must be a map of strings");
  }
  return { ...ev, reportingController: ev.reportingController ?? "", timestamp: ev.timestamp ?? "" } as FluxEvent;
}

export const EventGroupPrefix = "event.toolkit.fluxcd.io/";

/** `<group>/` of the involved object, the prefix of the controller's own metadata keys. */
function objectPrefix(ev: FluxEvent): string {
  return `${groupOf(ev.involvedObject.apiVersion)}/`;
}

/** Drops metadata only meant for the rate limiter (`<group>/token`), as Flux does on arrival. */
export function excludeInternalMetadata(ev: FluxEvent): void {
  if (ev.metadata) delete ev.metadata[`${objectPrefix(ev)}token`];
}

/**
 * The metadata sent to a Provider, lowest precedence first: object annotations
 * (`event.toolkit.fluxcd.io/x`), the Alert's eventMetadata, its summary, then the emitting
 * controller's own keys (`<group>/x`). Keys set by more than one source are returned as conflicts.
 */
export function combineMetadata(ev: FluxEvent, alert: Alert): { metadata: Record<string, string>; conflicts: string[] } {
  const out: Record<string, string> = {};
  const sources = new Map<string, number>();
  const put = (k: string, v: string) => { out[k] = v; sources.set(k, (sources.get(k) ?? 0) + 1); };
  const prefixed = (prefix: string) => Object.entries(ev.metadata ?? {})
    .filter(([k]) => k.startsWith(prefix)).map(([k, v]) => [k.slice(prefix.length), v] as const);
  for (const [k, v] of prefixed(EventGroupPrefix)) put(k, v);
  for (const [k, v] of Object.entries(alert.spec.eventMetadata ?? {})) put(k, v);
  if (alert.spec.summary) put("summary", alert.spec.summary);
  const own = objectPrefix(ev);
  if (own !== EventGroupPrefix) for (const [k, v] of prefixed(own)) put(k, v);
  return { metadata: out, conflicts: [...sources].filter(([, n]) => n > 1).map(([k]) => k).sort() };
}

/** The revision an event is about, as Flux looks it up (commit, originRevision, revision). */
export function eventRevision(ev: FluxEvent): string | undefined {
  const p = objectPrefix(ev);
  const m = ev.metadata ?? {};
  return m[`${p}commit`] ?? m[`${p}originRevision`] ?? m[`${p}revision`];
}

/**
 * The de-duplication key: identical object, message, revision and token within the rate-limit
 * window count as one event (Flux's eventKeyFunc).
 */
export function eventKey(ev: FluxEvent): string {
  const p = objectPrefix(ev);
  const io = ev.involvedObject;
  const parts = ["event", `name=${io.name}`, `namespace=${io.namespace}`, `kind=${io.kind}`, `message=${ev.message}`];
  const revision = ev.metadata?.[`${p}revision`];
  if (revision !== undefined) parts.push(`revision=${revision}`);
  const token = ev.metadata?.[`${p}token`];
  if (token !== undefined) parts.push(`token=${token}`);
  return createHash("sha256").update(parts.join("/")).digest("hex");
}

/** `Kind/namespace/name`, as Flux names an involved object in messages. */
export function objectString(o: ObjectReference): string {
  return `${o.kind}/${o.namespace}/${o.name}`;
}
