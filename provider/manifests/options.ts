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
  "image-reflector-controller": "image.toolkit.fluxcd.io is not implemented by this toolkit yet",
  "image-automation-controller": "image.toolkit.fluxcd.io is not implemented by this toolkit yet",
  "source-watcher": "source.extensions.fluxcd.io (ArtifactGenerator) is not implemented by this toolkit yet",
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
    components,
    registry: (opts.registry ?? DefaultRegistry).replace(/\/+$/, ""),
    imagePullSecret: opts.imagePullSecret,
    clusterDomain: opts.clusterDomain ?? DefaultClusterDomain,
    networkPolicy: opts.networkPolicy ?? true,
    watchAllNamespaces: opts.watchAllNamespaces ?? true,
    logLevel,
    tolerationKeys: opts.tolerationKeys ?? [],
    customisation,
  };
}
