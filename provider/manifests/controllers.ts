/**
 * The controller Deployments, ServiceAccounts and Services, with the same names, ports, probes,
 * flags and security settings as Flux's release manifests (the controllers' config/manager and
 * flux2's manifests/bases overlays), so `flux check` and Flux-written patches keep working.
 */
import { Component } from "../args/install";
import type { KubeManifest } from "./objects";
import type { ResolvedInstallOptions } from "./options";

interface ControllerDef {
  name: Component;
  ports: { name: string; containerPort: number }[];
  /** source-controller: artifact storage flags and volume. */
  storage: boolean;
  readiness: { path: string; port: string };
  terminationGracePeriodSeconds: number;
  recreate: boolean;
  requestsCpu: string;
  /** Flux leaves these out of notification-controller (it is the events receiver). */
  eventsAddr: boolean;
  priorityClass: boolean;
  fsGroup: boolean;
  runAsUser: boolean;
  seccomp: boolean;
}

const prom = { name: "http-prom", containerPort: 8080 };
const healthz = { name: "healthz", containerPort: 9440 };

export const controllerDefs: Record<Component, ControllerDef> = {
  [Component.Source]: {
    name: Component.Source,
    ports: [{ name: "http", containerPort: 9090 }, prom, healthz],
    storage: true,
    readiness: { path: "/", port: "http" },
    terminationGracePeriodSeconds: 10,
    recreate: true,
    requestsCpu: "50m",
    eventsAddr: true,
    priorityClass: true,
    fsGroup: true,
    runAsUser: false,
    seccomp: true,
  },
  [Component.Kustomize]: {
    name: Component.Kustomize,
    ports: [prom, healthz],
    storage: false,
    readiness: { path: "/readyz", port: "healthz" },
    terminationGracePeriodSeconds: 60,
    recreate: false,
    requestsCpu: "100m",
    eventsAddr: true,
    priorityClass: true,
    fsGroup: true,
    runAsUser: true,
    seccomp: true,
  },
  [Component.Helm]: {
    name: Component.Helm,
    ports: [prom, healthz],
    storage: false,
    readiness: { path: "/readyz", port: "healthz" },
    terminationGracePeriodSeconds: 600,
    recreate: false,
    requestsCpu: "100m",
    eventsAddr: true,
    priorityClass: true,
    fsGroup: true,
    runAsUser: false,
    seccomp: true,
  },
  [Component.Notification]: {
    name: Component.Notification,
    ports: [{ name: "http", containerPort: 9090 }, { name: "http-webhook", containerPort: 9292 }, prom, healthz],
    storage: false,
    readiness: { path: "/readyz", port: "healthz" },
    terminationGracePeriodSeconds: 10,
    recreate: false,
    requestsCpu: "100m",
    eventsAddr: false,
    priorityClass: false,
    fsGroup: false,
    runAsUser: false,
    seccomp: false,
  },
};

/** Labels every install object carries (flux2 manifests/install + the per-install overlay). */
export function commonLabels(o: ResolvedInstallOptions): Record<string, string> {
  return {
    "app.kubernetes.io/instance": o.namespace,
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": o.version,
  };
}

export function componentLabels(o: ResolvedInstallOptions, c: Component): Record<string, string> {
  return { "app.kubernetes.io/component": c, ...commonLabels(o) };
}

/** `--events-addr` value: notification-controller's Service, or empty when it is not installed. */
export function eventsAddr(o: ResolvedInstallOptions): string {
  return o.components.includes(Component.Notification)
    ? `http://notification-controller.$(RUNTIME_NAMESPACE).svc.${o.clusterDomain}./`
    : "";
}

/** The flags, in Flux's order (the overlay patches args 0-2 and 6 by position). */
export function controllerArgs(o: ResolvedInstallOptions, def: ControllerDef): string[] {
  const args: string[] = [];
  if (def.eventsAddr) args.push(`--events-addr=${eventsAddr(o)}`);
  args.push(`--watch-all-namespaces=${o.watchAllNamespaces}`, `--log-level=${o.logLevel}`, "--log-encoding=json", "--enable-leader-election");
  if (def.storage) {
    args.push("--storage-path=/data", `--storage-adv-addr=${def.name}.$(RUNTIME_NAMESPACE).svc.${o.clusterDomain}.`);
  }
  return args;
}

export function serviceAccount(o: ResolvedInstallOptions, c: Component): KubeManifest {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: c, namespace: o.namespace, labels: componentLabels(o, c) },
  };
}

export function deployment(o: ResolvedInstallOptions, c: Component): KubeManifest {
  const def = controllerDefs[c];
  const labels = { ...componentLabels(o, c), "control-plane": "controller" };
  const containerSecurity: Record<string, unknown> = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
  if (def.runAsUser) Object.assign(containerSecurity, { runAsUser: 65534, runAsGroup: 65534 });
  if (def.seccomp) containerSecurity.seccompProfile = { type: "RuntimeDefault" };
  const volumes = def.storage
    ? [{ name: "data", emptyDir: {} }, { name: "tmp", emptyDir: {} }]
    : [{ name: "temp", emptyDir: {} }];
  const mounts = def.storage
    ? [{ name: "data", mountPath: "/data" }, { name: "tmp", mountPath: "/tmp" }]
    : [{ name: "temp", mountPath: "/tmp" }];
  const env: Record<string, unknown>[] = [
    { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  ];
  if (def.storage) env.push({ name: "TUF_ROOT", value: "/tmp/.sigstore" });
  const podSpec: Record<string, unknown> = {
    serviceAccountName: c,
    terminationGracePeriodSeconds: def.terminationGracePeriodSeconds,
    nodeSelector: { "kubernetes.io/os": "linux" },
  };
  if (def.priorityClass) podSpec.priorityClassName = "system-cluster-critical";
  if (def.fsGroup) podSpec.securityContext = { fsGroup: 1337 };
  if (o.imagePullSecret) podSpec.imagePullSecrets = [{ name: o.imagePullSecret }];
  if (o.tolerationKeys.length > 0) podSpec.tolerations = o.tolerationKeys.map((key) => ({ key, operator: "Exists" }));
  podSpec.containers = [
    {
      name: "manager",
      image: `${o.registry}/${c}:${o.version}`,
      imagePullPolicy: "IfNotPresent",
      args: controllerArgs(o, def),
      env,
      ports: def.ports.map((p) => ({ ...p, protocol: "TCP" })),
      readinessProbe: { httpGet: { path: def.readiness.path, port: def.readiness.port } },
      livenessProbe: { httpGet: { path: "/healthz", port: "healthz" } },
      resources: { limits: { cpu: "1000m", memory: "1Gi" }, requests: { cpu: def.requestsCpu, memory: "64Mi" } },
      securityContext: containerSecurity,
      volumeMounts: mounts,
    },
  ];
  podSpec.volumes = volumes;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: c, namespace: o.namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: c } },
      ...(def.recreate ? { strategy: { type: "Recreate" } } : {}),
      template: {
        metadata: {
          annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true" },
          labels: { app: c, ...componentLabels(o, c) },
        },
        spec: podSpec,
      },
    },
  };
}

function service(o: ResolvedInstallOptions, c: Component, name: string, targetPort: string): KubeManifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: o.namespace, labels: { ...componentLabels(o, c), "control-plane": "controller" } },
    spec: {
      type: "ClusterIP",
      selector: { app: c },
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort }],
    },
  };
}

/** source-controller's artifact Service; notification-controller's events and webhook Services. */
export function services(o: ResolvedInstallOptions, c: Component): KubeManifest[] {
  if (c === Component.Source) return [service(o, c, "source-controller", "http")];
  if (c === Component.Notification) {
    return [service(o, c, "notification-controller", "http"), service(o, c, "webhook-receiver", "http-webhook")];
  }
  return [];
}
