// Receiver: read the token from spec.secretRef, publish `status.webhookPath` =
// `/hook/sha256(token+name+namespace)` and mark Ready, then re-check at spec.interval (10m).
// A missing Secret or token (for gcr: `email`, `audience`) is Ready=False TokenNotFound, retried; a spec this controller
// cannot serve (an unsupported type, CEL filters) is Ready=False + Stalled, not retried.
import { createHash } from "node:crypto";
import { ConditionType as CT, Reason } from "../api/meta";
import { NotificationController, NotificationReason } from "../api/notification/group-version";
import { DefaultReceiverInterval, ReceiverNames, ReceiverType, ReceiverWebhookPath, type Receiver } from "../api/notification/v1/receiver";
import { markFalse, markReconciling, markStalled, markTrue, removeCondition } from "../runtime/conditions";
import type { ReconcileContext } from "../runtime/controller";
import { intervalMs, requeueAtInterval } from "../runtime/reconcile-steps";
import type { ObjectKey } from "../runtime/keys";
import { reconcileObject } from "../runtime/reconcile-object";
import { Result } from "../runtime/result";
import { ProviderConfigError, secretData } from "./provider-config";
import { SupportedReceiverTypes } from "./receiver-validate";
import { compileBool } from "../runtime/cel";
import { filterVariables, oidcSpecProblem } from "./receiver-oidc";
import { gcrSecretProblem } from "./receiver-gcr";

export const receiversRes = { group: ReceiverNames.group, version: ReceiverNames.version, plural: ReceiverNames.plural, kind: ReceiverNames.kind };

type Ctx = ReconcileContext<Receiver & { status?: Record<string, unknown> }>;

/** Flux's webhook path: `/hook/` + hex(sha256(token + name + namespace)). */
export function webhookPath(token: string, name: string, namespace: string): string {
  return ReceiverWebhookPath + createHash("sha256").update(token + name + namespace).digest("hex");
}

/**
 * The data of a Receiver's Secret, with its `token` (the error messages are Flux's); a gcr
 * Receiver's also needs `email` and `audience` (Flux checks them per request; here a Secret
 * without them keeps the Receiver not Ready, saying what to add).
 */
export async function receiverSecret(ctx: { client: Ctx["client"]; signal?: AbortSignal }, obj: Receiver): Promise<{ token: string; data: Record<string, string> }> {
  const ns = obj.metadata.namespace!;
  // generic-oidc has no Secret: the path is /hook/sha256(name+namespace), requests carry a JWT.
  if (obj.spec.type === ReceiverType.GenericOIDC && !obj.spec.secretRef) return { token: "", data: {} };
  const name = obj.spec.secretRef?.name ?? "";
  if (!name) throw new Error(`spec.secretRef is required for ${obj.spec.type} receivers: name a Secret in '${ns}' with a 'token' key`);
  let data: Record<string, string>;
  try { data = await secretData(ctx.client, ns, name, ctx.signal); } catch (e) {
    if (e instanceof ProviderConfigError) throw new Error(`unable to read token from secret '${ns}/${name}' error: secrets "${name}" not found`);
    throw e;
  }
  if (data.token === undefined) throw new Error(`invalid '${ns}/${name}' secret data: required fields 'token'`);
  if (obj.spec.type === ReceiverType.GCR) {
    const problem = gcrSecretProblem(ns, name, data);
    if (problem) throw new Error(problem);
  }
  return { token: data.token, data };
}

/** The token of a Receiver's Secret. */
export async function receiverToken(ctx: { client: Ctx["client"]; signal?: AbortSignal }, obj: Receiver): Promise<string> {
  return (await receiverSecret(ctx, obj)).token;
}

export function reconcileReceiver() {
  return (key: ObjectKey, ctx: Ctx): Promise<Result> =>
    reconcileObject(key, ctx, { fieldManager: NotificationController, reconcile: (obj) => reconcile(obj as Receiver, ctx) });
}

async function reconcile(obj: Receiver, ctx: Ctx): Promise<Result> {
  const unsupported = unsupportedSpec(obj);
  const oidc = unsupported ? undefined : oidcSpecProblem(obj);
  if (unsupported || oidc) {
    const reason = oidc?.reason ?? NotificationReason.ValidationFailed;
    const message = `Reconciliation failed terminally due to configuration error: ${unsupported ?? oidc!.message}`;
    markFalse(obj, CT.Ready, reason, message);
    markStalled(obj, reason, message);
    removeCondition(obj, CT.Reconciling);
    delete obj.status?.webhookPath;
    await ctx.events.warning(obj, reason, message);
    return Result.terminal(new Error(message));
  }
  removeCondition(obj, CT.Stalled);
  markReconciling(obj, Reason.Progressing, "Reconciliation in progress");
  let token: string;
  try { token = await receiverToken(ctx, obj); } catch (e) {
    const message = (e as Error).message;
    markFalse(obj, CT.Ready, NotificationReason.TokenNotFound, message);
    markReconciling(obj, Reason.ProgressingWithRetry, "Reconciliation in progress");
    delete obj.status?.webhookPath;
    await ctx.events.warning(obj, Reason.Failed, message);
    return Result.retry(e);
  }
  const path = webhookPath(token, obj.metadata.name!, obj.metadata.namespace!);
  const status = (obj.status ??= {});
  if (status.webhookPath !== path) ctx.log.info({ webhookPath: path }, `Receiver initialized for path: ${path}`);
  status.webhookPath = path;
  markTrue(obj, CT.Ready, Reason.Succeeded, `Receiver initialized for path: ${path}`);
  removeCondition(obj, CT.Reconciling);
  const interval = obj.spec.interval ?? DefaultReceiverInterval;
  await ctx.events.normal(obj, Reason.Succeeded, `Reconciliation finished, next run in ${goDuration(intervalMs(interval))}`);
  return requeueAtInterval(interval, ctx.intervalJitter);
}

/** What in the spec this controller cannot serve, if anything. */
function unsupportedSpec(obj: Receiver): string | undefined {
  if (!SupportedReceiverTypes.includes(obj.spec.type)) {
    return `receiver type '${obj.spec.type}' is not supported by this notification-controller (supported: ${SupportedReceiverTypes.join(", ")})`;
  }
  const exprs: [string, string | undefined][] = [["spec.resourceFilter", obj.spec.resourceFilter],
    ...(obj.spec.resources ?? []).map((r) => [`spec.resources[${r.kind}/${r.name}].filter`, r.filter] as [string, string | undefined])];
  for (const [where, expr] of exprs) {
    if (!expr) continue;
    try { compileBool(expr, filterVariables(obj)); } catch (e) { return `${where}: invalid CEL expression '${expr}': ${(e as Error).message}`; }
  }
  return undefined;
}

/** Go's time.Duration.String() for whole seconds: `10m0s`, `1h0m0s`, `30s`. */
function goDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}h${m}m${s}s`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}
