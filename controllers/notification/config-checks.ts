// Providers and Alerts v1beta3 are static in Flux: no status, no finalizer, no Ready. Errors
// surface when an event is sent (Warning Events on the Alert). These two controllers check a
// Provider or Alert when it is created or changed, so a configuration that cannot work (an
// unsupported provider type, a missing Secret, a malformed address, a missing Provider, a bad
// regex) is reported right away as a Warning Event (InvalidConfig) on the object itself.
import { NotificationReason } from "../api/notification/group-version";
import { AlertNames, type Alert } from "../api/notification/v1beta3/alert";
import type { Provider } from "../api/notification/v1beta3/provider";
import type { ControllerDefinition, ReconcileContext } from "../runtime/controller";
import type { ObjectKey } from "../runtime/keys";
import { Result } from "../runtime/result";
import { goRegExp } from "./alert-matcher";
import { providersRes } from "./dispatch";
import { ProviderConfigError, checkProviderSpec, notifierConfig } from "./provider-config";

export const alertsRes = { group: AlertNames.group, version: AlertNames.version, plural: AlertNames.plural, kind: AlertNames.kind };

/** The problems with a Provider; empty when it can be sent to. */
export async function providerProblems(ctx: Pick<ReconcileContext, "client" | "signal">, p: Provider): Promise<string[]> {
  try {
    await notifierConfig(ctx.client, p, ctx.signal);
    return [];
  } catch (e) {
    if (e instanceof ProviderConfigError) return [e.message];
    if (e instanceof Error && /invalid duration/.test(e.message)) return [`spec.timeout: ${e.message}`];
    throw e;
  }
}

/** The problems with an Alert (its Provider's own problems are reported on the Provider). */
export async function alertProblems(ctx: Pick<ReconcileContext, "client" | "signal">, a: Alert): Promise<string[]> {
  const out: string[] = [];
  const ns = a.metadata.namespace!;
  const provider = await ctx.client.get<Provider>(providersRes, { namespace: ns, name: a.spec.providerRef.name }, { signal: ctx.signal });
  if (!provider) out.push(`provider '${ns}/${a.spec.providerRef.name}' in spec.providerRef not found`);
  else {
    try { checkProviderSpec(provider); } catch (e) {
      if (!(e instanceof ProviderConfigError)) throw e;
      out.push(`provider '${ns}/${provider.metadata.name}' cannot be used: ${e.message}`);
    }
  }
  for (const [list, exprs] of [["inclusion", a.spec.inclusionList], ["exclusion", a.spec.exclusionList]] as const) {
    for (const expr of exprs ?? []) {
      try { goRegExp(expr); } catch (e) { out.push(`failed to compile ${list} regex: ${expr}: ${(e as Error).message}`); }
    }
  }
  for (const s of a.spec.eventSources ?? []) {
    if (s.matchLabels && s.name !== "*") out.push(`eventSources: matchLabels requires name '*' (got '${s.name}' for kind ${s.kind})`);
  }
  return out;
}

function checkController<T extends Provider | Alert>(name: string, kind: ControllerDefinition["kind"],
  problems: (ctx: ReconcileContext<T>, obj: T) => Promise<string[]>): ControllerDefinition<T> {
  return {
    name, kind,
    reconcile: async (key: ObjectKey, ctx: ReconcileContext<T>): Promise<Result> => {
      const obj = await ctx.client.get<T>(kind, key, { signal: ctx.signal });
      if (!obj || obj.metadata.deletionTimestamp || obj.spec.suspend) return Result.done();
      const found = await problems(ctx, obj);
      for (const p of found) {
        ctx.log.error({ problem: p }, `invalid ${kind.kind} configuration`);
        await ctx.events.warning(obj, NotificationReason.InvalidConfig, p);
      }
      return Result.done();
    },
  };
}

export const providerCheckController = (): ControllerDefinition<Provider> =>
  checkController<Provider>("provider", providersRes, providerProblems);
export const alertCheckController = (): ControllerDefinition<Alert> =>
  checkController<Alert>("alert", alertsRes, alertProblems);
