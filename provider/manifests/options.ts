/**
 * Install options with every default filled in, and the checks a user can fail with a message
 * that names the field. Pure: no I/O.
 */
import {
  Component,
  defaultComponents,
  LogLevel,
  type Customisation,
  type ExtraComponent,
  type InstallOptions,
  type MultiTenancy,
} from "../args/install";
import { DefaultControllersVersion, DefaultRegistry } from "../version";

export const DefaultNamespace = "flux-system";
export const DefaultClusterDomain = "cluster.local";

export interface ResolvedInstallOptions {
  version: string;
  namespace: string;
  components: Component[];
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

const extraReasons: Record<ExtraComponent, string> = {
  "image-reflector-controller": "it runs with `gitops controllers run --only image-reflector`, but its Deployment and image are not part of the install yet",
  "image-automation-controller": "ImageUpdateAutomation is not implemented by this toolkit yet",
  "source-watcher": "it runs with `gitops controllers run --only source-watcher`, but its Deployment and image are not part of the install yet",
};

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
  for (const [i, extra] of (opts.componentsExtra ?? []).entries()) {
    const why = extraReasons[extra];
    throw new InvalidInputError(`componentsExtra[${i}]`, why ? `${extra}: ${why}; remove it` : `unknown extra component '${extra}'`);
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
    if (!order.includes(key)) throw new InvalidInputError("customisation", `'${key}' is not a component name; use one of ${order.join(", ")}`);
  }
  return {
    version,
    namespace,
    // before customisation's own args, so a user's extraArgs can still override a flag
    customisation: withMultiTenancyArgs(customisation, opts.multiTenancy ?? {}),
    components,
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
  const add: Partial<Record<Component, string[]>> = {};
  const push = (names: Component[], flag: string) => { for (const n of names) (add[n] ??= []).push(flag); };
  if (m.noCrossNamespaceRefs) push([Component.Kustomize, Component.Helm, Component.Notification], "--no-cross-namespace-refs=true");
  if (m.noRemoteBases) push([Component.Kustomize], "--no-remote-bases=true");
  if (m.defaultServiceAccount !== undefined) {
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(m.defaultServiceAccount)) {
      throw new InvalidInputError("multiTenancy.defaultServiceAccount", `'${m.defaultServiceAccount}' is not a valid ServiceAccount name`);
    }
    push([Component.Kustomize, Component.Helm], `--default-service-account=${m.defaultServiceAccount}`);
  }
  if (m.watchLabelSelector) push(Object.values(Component), `--watch-label-selector=${m.watchLabelSelector}`);
  if (Object.keys(add).length === 0) return c;
  const extraArgs: Record<string, string[]> = { ...(c.extraArgs ?? {}) };
  for (const [name, flags] of Object.entries(add)) extraArgs[name] = [...flags, ...(extraArgs[name] ?? [])];
  return { ...c, extraArgs };
}
