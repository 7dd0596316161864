/**
 * The controller Deployments, ServiceAccounts and Services, with the same names, ports, probes,
 * flags and security settings as Flux's release manifests (the controllers' config/manager and
 * flux2's manifests/bases overlays), so `flux check` and Flux-written patches keep working.
 */
import { Component, ExtraComponent, ShardedComponents, ShardLabel, type AnyComponent } from "../args/install";
import type { KubeManifest } from "./objects";
import type { ResolvedInstallOptions } from "./options";

/**
 * One controller of the install. Adding a controller is one
 * entry in `controllerDefs`: the Deployment, ServiceAccount, Services, CRDs, RBAC subjects and
 * its container image (scripts/images.sh reads `imageTable`) all follow from it.
 */
export interface ControllerDef {
  name: AnyComponent;
  /** `gitops controllers run --only <only>`: what the image runs. */
  only: string;
  /** Flags the image's entrypoint adds: the addresses and paths Flux's binaries default to. */
  imageArgs: string[];
  /** The CRDs it serves: a whole API group, or some kinds of one (image.toolkit.fluxcd.io is split). */
  crds: { group: string; kinds?: string[] }[];
  ports: { name: string; containerPort: number }[];
  /**
   * `artifacts`: artifact storage flags, /data + /tmp volumes and an artifact Service (source-controller,
   * source-watcher); `data`: a /data volume for state the controller keeps (image-reflector's tags); `temp`: /tmp only.
   */
  volumes: "artifacts" | "data" | "temp";
  /** The Services in front of it: name, target port, and the `control-plane` label Flux gives it. */
  services: { name: string; targetPort: string; controlPlane: string }[];
  /** source-controller's TUF_ROOT for sigstore verification. */
  tufRoot: boolean;
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
const artifactsHttp = { name: "http", containerPort: 9090 };
const artifactFlags = ["--storage-path=/data", "--storage-addr=:9090"];

export const controllerDefs: Partial<Record<AnyComponent, ControllerDef>> = {
  [Component.Source]: {
    name: Component.Source,
    only: "source",
    imageArgs: artifactFlags,
    crds: [{ group: "source.toolkit.fluxcd.io" }],
    ports: [artifactsHttp, prom, healthz],
    volumes: "artifacts",
    services: [{ name: "source-controller", targetPort: "http", controlPlane: "controller" }],
    tufRoot: true,
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
    only: "kustomize",
    imageArgs: [],
    crds: [{ group: "kustomize.toolkit.fluxcd.io" }],
    ports: [prom, healthz],
    volumes: "temp",
    services: [],
    tufRoot: false,
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
    only: "helm",
    imageArgs: [],
    crds: [{ group: "helm.toolkit.fluxcd.io" }],
    ports: [prom, healthz],
    volumes: "temp",
    services: [],
    tufRoot: false,
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
    only: "notification",
    imageArgs: ["--events-addr=:9090", "--receiver-addr=:9292"],
    crds: [{ group: "notification.toolkit.fluxcd.io" }],
    ports: [{ name: "http", containerPort: 9090 }, { name: "http-webhook", containerPort: 9292 }, prom, healthz],
    volumes: "temp",
    services: [
      { name: "notification-controller", targetPort: "http", controlPlane: "controller" },
      { name: "webhook-receiver", targetPort: "http-webhook", controlPlane: "controller" },
    ],
    tufRoot: false,
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
  // fluxcd/source-watcher config/manager (Deployment, Service) + flux2 manifests/bases/source-watcher.
  [ExtraComponent.SourceWatcher]: {
    name: ExtraComponent.SourceWatcher,
    only: "source-watcher",
    imageArgs: artifactFlags,
    crds: [{ group: "source.extensions.fluxcd.io" }],
    ports: [artifactsHttp, prom, healthz],
    volumes: "artifacts",
    services: [{ name: "source-watcher", targetPort: "http", controlPlane: "source-watcher" }],
    tufRoot: false,
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
  // fluxcd/image-reflector-controller config/manager + flux2 manifests/bases/image-reflector-controller
  // (no priority class there). Its tag database lives in /data, as Flux's --storage-path default.
  [ExtraComponent.ImageReflector]: {
    name: ExtraComponent.ImageReflector,
    only: "image-reflector",
    imageArgs: ["--image-storage-path=/data"],
    crds: [{ group: "image.toolkit.fluxcd.io", kinds: ["ImageRepository", "ImagePolicy"] }],
    ports: [prom, healthz],
    volumes: "data",
    services: [],
    tufRoot: false,
    readiness: { path: "/readyz", port: "healthz" },
    terminationGracePeriodSeconds: 10,
    recreate: false,
    requestsCpu: "100m",
    eventsAddr: true,
    priorityClass: false,
    fsGroup: true,
    runAsUser: false,
    seccomp: true,
  },
  // fluxcd/image-automation-controller config/manager + flux2 manifests/bases/image-automation-controller
  // (no priority class, no Service). Its git clones live in /tmp; the crd-controller ClusterRole covers
  // what it reads (GitRepositories, ImagePolicies, Secrets) and writes (its status, events).
  [ExtraComponent.ImageAutomation]: {
    name: ExtraComponent.ImageAutomation,
    only: "image-automation",
    imageArgs: [],
    crds: [{ group: "image.toolkit.fluxcd.io", kinds: ["ImageUpdateAutomation"] }],
    ports: [prom, healthz],
    volumes: "temp",
    services: [],
    tufRoot: false,
    readiness: { path: "/readyz", port: "healthz" },
    terminationGracePeriodSeconds: 10,
    recreate: false,
    requestsCpu: "100m",
    eventsAddr: true,
    priorityClass: false,
    fsGroup: true,
    runAsUser: false,
    seccomp: true,
  },
};

export function defOf(c: AnyComponent): ControllerDef {
  const def = controllerDefs[c];
  if (!def) throw new Error(`${c} is not installable`);
  return def;
}

/** The images scripts/images.sh builds: `<image name> <--only name> <entrypoint flags, comma-separated>` per line. */
export function imageTable(): string {
  return Object.values(controllerDefs).map((d) => `${d.name} ${d.only} ${d.imageArgs.join(",")}`.trimEnd()).join("\n");
}

/** Labels every install object carries (flux2 manifests/install + the per-install overlay). */
export function commonLabels(o: ResolvedInstallOptions): Record<string, string> {
  return {
    "app.kubernetes.io/instance": o.namespace,
    "app.kubernetes.io/part-of": "flux",
    "app.kubernetes.io/version": o.version,
  };
}

export function componentLabels(o: ResolvedInstallOptions, c: AnyComponent): Record<string, string> {
  return { "app.kubernetes.io/component": c, ...commonLabels(o) };
}

/** `--events-addr` value: notification-controller's Service, or empty when it is not installed. */
export function eventsAddr(o: ResolvedInstallOptions): string {
  return o.components.includes(Component.Notification)
    ? `http://notification-controller.$(RUNTIME_NAMESPACE).svc.${o.clusterDomain}./`
    : "";
}

/** `<component>-<shard>`: a shard instance's Deployment, pod label and Service (Flux's sharding guide, nameSuffix). */
export function instanceName(c: AnyComponent, shard?: string): string {
  return shard ? `${c}-${shard}` : c;
}

/** The flags, in Flux's order (the overlay patches args 0-2 and 6 by position); sharding flags come last. */
export function controllerArgs(o: ResolvedInstallOptions, def: ControllerDef, shard?: string): string[] {
  const args: string[] = [];
  if (def.eventsAddr) args.push(`--events-addr=${eventsAddr(o)}`);
  args.push(`--watch-all-namespaces=${o.watchAllNamespaces}`, `--log-level=${o.logLevel}`, "--log-encoding=json", "--enable-leader-election");
  if (def.volumes === "artifacts") {
    args.push("--storage-path=/data", `--storage-adv-addr=${instanceName(def.name, shard)}.$(RUNTIME_NAMESPACE).svc.${o.clusterDomain}.`);
  }
  // flux install adds this gate when source-watcher is installed: Kustomizations and HelmReleases may then use its ExternalArtifacts.
  if ((def.name === Component.Kustomize || def.name === Component.Helm) && o.components.includes(ExtraComponent.SourceWatcher)) {
    args.push("--feature-gates=ExternalArtifact=true");
  }
  if (o.shards.length > 0 && (shardedComponents(o) as string[]).includes(def.name)) {
    args.push(shard ? `--watch-label-selector=${ShardLabel}=${shard}` : `--watch-label-selector=!${ShardLabel}`);
  }
  return args;
}

/** The installed controllers that run once per shard. */
export function shardedComponents(o: ResolvedInstallOptions): Component[] {
  return ShardedComponents.filter((c) => o.components.includes(c));
}

export function serviceAccount(o: ResolvedInstallOptions, c: AnyComponent): KubeManifest {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: c, namespace: o.namespace, labels: componentLabels(o, c) },
  };
}

/** Flux's sharding guide marks every shard object (commonAnnotations), so patches can skip them. */
const shardAnnotations = (shard?: string): Record<string, string> => (shard ? { "sharding.fluxcd.io/role": "shard" } : {});

export function deployment(o: ResolvedInstallOptions, c: AnyComponent, shard?: string): KubeManifest {
  const def = defOf(c);
  const app = instanceName(c, shard);
  const labels = { ...componentLabels(o, c), "control-plane": "controller" };
  const containerSecurity: Record<string, unknown> = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
  };
  if (def.runAsUser) Object.assign(containerSecurity, { runAsUser: 65534, runAsGroup: 65534 });
  if (def.seccomp) containerSecurity.seccompProfile = { type: "RuntimeDefault" };
  const volumes = {
    artifacts: [{ name: "data", emptyDir: {} }, { name: "tmp", emptyDir: {} }],
    data: [{ name: "temp", emptyDir: {} }, { name: "data", emptyDir: {} }],
    temp: [{ name: "temp", emptyDir: {} }],
  }[def.volumes];
  const mounts = {
    artifacts: [{ name: "data", mountPath: "/data" }, { name: "tmp", mountPath: "/tmp" }],
    data: [{ name: "temp", mountPath: "/tmp" }, { name: "data", mountPath: "/data" }],
    temp: [{ name: "temp", mountPath: "/tmp" }],
  }[def.volumes];
  const env: Record<string, unknown>[] = [
    { name: "RUNTIME_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  ];
  if (def.tufRoot) env.push({ name: "TUF_ROOT", value: "/tmp/.sigstore" });
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
      args: controllerArgs(o, def, shard),
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
  const annotations = shardAnnotations(shard);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: app, namespace: o.namespace, labels, ...(shard ? { annotations } : {}) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app } },
      ...(def.recreate ? { strategy: { type: "Recreate" } } : {}),
      template: {
        metadata: {
          annotations: { "prometheus.io/port": "8080", "prometheus.io/scrape": "true", ...annotations },
          labels: { app, ...componentLabels(o, c) },
        },
        spec: podSpec,
      },
    },
  };
}

/** source-controller's and source-watcher's artifact Services; notification-controller's events and webhook Services. */
export function services(o: ResolvedInstallOptions, c: AnyComponent, shard?: string): KubeManifest[] {
  return defOf(c).services.map((s) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: instanceName(s.name as AnyComponent, shard),
      namespace: o.namespace,
      labels: { ...componentLabels(o, c), "control-plane": s.controlPlane },
      ...(shard ? { annotations: shardAnnotations(shard) } : {}),
    },
    spec: {
      type: "ClusterIP",
      selector: { app: instanceName(c, shard) },
      ports: [{ name: "http", port: 80, protocol: "TCP", targetPort: s.targetPort }],
    },
  }));
}
