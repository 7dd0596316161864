/**
 * Install options with every default filled in, and the checks a user can fail with a message
 * that names the field. Pure: no I/O.
 */
import {
  Component,
  defaultComponents,
  ExtraComponent,
  LogLevel,
  ShardLabel,
  type AnyComponent,
  type Customisation,
  type InstallOptions,
  type MultiTenancy,
} from "../args/install";
import { DefaultControllersVersion, DefaultRegistry } from "../version";
import { controllerDefs } from "./controllers";

export const DefaultNamespace = "flux-system";
export const DefaultClusterDomain = "cluster.local";

export interface ResolvedInstallOptions {
  version: string;
  namespace: string;
  /** The default components asked for, then the extra ones (Flux's install order within each). */
  components: AnyComponent[];
  /** Shard keys (Flux's sharding guide); empty: no sharding. */
  shards: string[];
  registry: string;
  imagePullSecret?: string;
  clusterDomain: string;
  networkPolicy: boolean;
  watchAllNamespaces: boolean;
  logLevel: LogLevel;
  tolerationKeys: string[];
  customisation: Customisation;
}

/** An input a user got wrong; `field` is the input's path, e.g. `components[1]`. */
export class InvalidInputError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`${field}: ${reason}`);
    this.name = "InvalidInputError";
  }
}

/** A label value (Kubernetes validation.IsValidLabelValue, non-empty). */
const labelValue = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Fills in defaults and rejects what cannot work. `requireSync` adds bootstrap's own rules. */
export function resolveInstallOptions(opts: InstallOptions = {}, requireSync = false): ResolvedInstallOptions {
  const components = [...new Set(opts.components ?? defaultComponents)];
  // Keep a stable, Flux-like order whatever the user wrote.
  const order = Object.values(Component) as string[];
  components.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  for (const [i, c] of components.entries()) {
    if (!order.includes(c)) throw new InvalidInputError(`components[${i}]`, `unknown component '${c}'; use one of ${order.join(", ")}`);
  }
  if (components.length === 0) throw new InvalidInputError("components", "at least one component is needed");
  if (requireSync) {
    for (const needed of [Component.Source, Component.Kustomize]) {
      if (!components.includes(needed)) {
        throw new InvalidInputError("components", `bootstrap needs ${needed} (the sync GitRepository and Kustomization run on it); add it to components`);
      }
    }
  }
  const extras: AnyComponent[] = [];
  const extraOrder = Object.values(ExtraComponent) as string[];
  for (const [i, extra] of (opts.componentsExtra ?? []).entries()) {
    if (!extraOrder.includes(extra)) throw new InvalidInputError(`componentsExtra[${i}]`, `unknown extra component '${extra}'; use one of ${extraOrder.join(", ")}`);
    if (!controllerDefs[extra]) throw new InvalidInputError(`componentsExtra[${i}]`, `${extra}: not installable by this toolkit yet; remove it`);
    if (!extras.includes(extra)) extras.push(extra);
  }
  extras.sort((a, b) => extraOrder.indexOf(a) - extraOrder.indexOf(b));
  const shards = opts.shards ?? [];
  for (const [i, shard] of shards.entries()) {
    if (typeof shard !== "string" || shard.length > 63 || !labelValue.test(shard)) {
      throw new InvalidInputError(`shards[${i}]`, `'${shard}' is not a valid ${ShardLabel} label value (at most 63 characters: letters, digits, '-', '_', '.', starting and ending with a letter or digit)`);
    }
    const first = shards.indexOf(shard);
    if (first !== i) throw new InvalidInputError(`shards[${i}]`, `'${shard}' is listed twice (also shards[${first}]); each shard key names one set of controllers`);
  }
  if (shards.length > 0) {
    if (!components.some((c) => c === Component.Source || c === Component.Kustomize || c === Component.Helm)) {
      throw new InvalidInputError("shards", "sharding runs extra source-, kustomize- and helm-controllers, but components has none of them");
    }
    if (opts.multiTenancy?.watchLabelSelector) {
      throw new InvalidInputError("multiTenancy.watchLabelSelector", "shards sets --watch-label-selector on the sharded controllers (sharding.fluxcd.io/key); unset one of the two");
    }
  }
  const logLevel = opts.logLevel ?? LogLevel.Info;
  if (!Object.values(LogLevel).includes(logLevel)) {
    throw new InvalidInputError("logLevel", `'${logLevel}' is not one of ${Object.values(LogLevel).join(", ")}`);
  }
  const namespace = opts.namespace ?? DefaultNamespace;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
    throw new InvalidInputError("namespace", `'${namespace}' is not a valid namespace name (RFC 1123 label, at most 63 characters)`);
  }
  const version = opts.version ?? DefaultControllersVersion;
  if (!/^v[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$/.test(version)) {
    throw new InvalidInputError("version", `'${version}' is not a version like v1.2.3`);
  }
  const customisation = opts.customisation ?? {};
  for (const key of [...Object.keys(customisation.resources ?? {}), ...Object.keys(customisation.extraArgs ?? {})]) {
    if (!order.includes(key) && !extraOrder.includes(key)) throw new InvalidInputError("customisation", `'${key}' is not a component name; use one of ${[...order, ...extraOrder].join(", ")}`);
  }
  return {
    version,
    namespace,
    // before customisation's own args, so a user's extraArgs can still override a flag
    customisation: withMultiTenancyArgs(customisation, opts.multiTenancy ?? {}),
    components: [...components, ...extras],
    shards: [...shards],
    registry: (opts.registry ?? DefaultRegistry).replace(/\/+$/, ""),
    imagePullSecret: opts.imagePullSecret,
    clusterDomain: opts.clusterDomain ?? DefaultClusterDomain,
    networkPolicy: opts.networkPolicy ?? true,
    watchAllNamespaces: opts.watchAllNamespaces ?? true,
    logLevel,
    tolerationKeys: opts.tolerationKeys ?? [],
  };
}

/** The lockdown flags per controller, in front of the user's extraArgs. */
function withMultiTenancyArgs(c: Customisation, m: MultiTenancy): Customisation {
  const add: Partial<Record<AnyComponent, string[]>> = {};
  const push = (names: AnyComponent[], flag: string) => { for (const n of names) (add[n] ??= []).push(flag); };
  if (m.noCrossNamespaceRefs) push([Component.Kustomize, Component.Helm, Component.Notification], "--no-cross-namespace-refs=true");
  if (m.noRemoteBases) push([Component.Kustomize], "--no-remote-bases=true");
  if (m.defaultServiceAccount !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(m.defaultServiceAccount)) {
      throw new InvalidInputError("multiTenancy.defaultServiceAccount", `'${m.defaultServiceAccount}' is not a valid ServiceAccount name`);
    }
    push([Component.Kustomize, Component.Helm], `--default-service-account=${m.defaultServiceAccount}`);
  }
  if (m.watchLabelSelector) push([...Object.values(Component), ...Object.values(ExtraComponent)], `--watch-label-selector=${m.watchLabelSelector}`);
  if (Object.keys(add).length === 0) return c;
  const extraArgs: Record<string, string[]> = { ...(c.extraArgs ?? {}) };
  for (const [name, flags] of Object.entries(add)) extraArgs[name] = [...flags, ...(extraArgs[name] ?? [])];
  return { ...c, extraArgs };
}
