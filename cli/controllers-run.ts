// `gitops controllers run`: runs our controllers as local processes against a cluster, with
// the same flags as in a pod (source-controller's and the shared runtime flags).
import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as path from "node:path";
import { EventForwarder } from "../controllers/runtime/event-forwarder";
import type { EventRecorder } from "../controllers/runtime/events";
import { parseDuration } from "../controllers/runtime/duration";
import { parseRuntimeFlags } from "../controllers/runtime/flags";
import { Manager } from "../controllers/runtime/manager";
import { defaultNotificationFlags, startNotificationController } from "../controllers/notification/setup";
import { defaultSourceFlags, startSourceController } from "../controllers/source/setup";
import { startKustomizeController } from "../controllers/kustomize/setup";
import { startHelmController } from "../controllers/helm/setup";
import { startSourceWatcher } from "../controllers/source-watcher/setup";
import { defaultImageReflectorFlags, startImageReflectorController } from "../controllers/image-reflector/setup";
import { imageAutomationControllers } from "../controllers/image-automation/setup";
import { UsageError } from "./errors";
import { requireTools, tool } from "./tools";

export const KNOWN_CONTROLLERS = ["source", "kustomize", "notification", "helm", "source-watcher", "image-reflector", "image-automation"] as const;
/** Without --only: Flux's default components; source-watcher and the image controllers are opt-in, as in Flux (components_extra). */
export const DEFAULT_CONTROLLERS = ["source", "kustomize", "notification", "helm"] as const;

/** kustomize-controller's own flags (Flux's names). */
export interface KustomizeFlags {
  noCrossNamespaceRefs: boolean;
  noRemoteBases: boolean;
  defaultServiceAccount?: string;
  concurrentSsa: number;
  featureGates: Record<string, boolean>;
}

/** Parses one kustomize-controller flag; false when the flag is not one of them. */
function kustomizeFlag(k: KustomizeFlags, name: string, value: () => string, bool: () => boolean): boolean {
  switch (name) {
    case "no-cross-namespace-refs": k.noCrossNamespaceRefs = bool(); return true;
    case "no-remote-bases": k.noRemoteBases = bool(); return true;
    case "default-service-account": k.defaultServiceAccount = value() || undefined; return true;
    case "concurrent-ssa": {
      const v = value();
      k.concurrentSsa = Number(v);
      if (!Number.isInteger(k.concurrentSsa) || k.concurrentSsa < 1) throw new UsageError(`--concurrent-ssa must be a positive integer, got '${v}'`);
      return true;
    }
    case "feature-gates":
      for (const pair of value().split(",").filter(Boolean)) {
        const [gate, on] = pair.split("=");
        if (on !== "true" && on !== "false") throw new UsageError(`--feature-gates: expected Gate=true|false, got '${pair}'`);
        k.featureGates[gate] = on === "true";
      }
      return true;
    default: return false;
  }
}

const SOURCE_FLAGS: Record<string, "storagePath" | "storageAddr" | "storageAdvAddr" | "artifactRetentionRecords"> = {
  "storage-path": "storagePath", "storage-addr": "storageAddr", "storage-adv-addr": "storageAdvAddr",
  "artifact-retention-records": "artifactRetentionRecords",
};

export function parseControllersArgs(argv: string[]) {
  const { flags, rest } = parseRuntimeFlags(argv, { metricsAddr: "127.0.0.1:0", healthAddr: "127.0.0.1:0" });
  const source = defaultSourceFlags();
  let kubeconfig = process.env.KUBECONFIG;
  let only: string[] = [...DEFAULT_CONTROLLERS];
  let eventsAddr: string | undefined;
  // As for --metrics-addr and --health-addr: local processes take free loopback ports unless
  // told (Flux's :9690/:9292 would collide between runs); the bound URLs are logged.
  const notification = { ...defaultNotificationFlags(), eventsAddr: "127.0.0.1:0", receiverAddr: "127.0.0.1:0" };
  const kustomize: KustomizeFlags = { noCrossNamespaceRefs: false, noRemoteBases: false, concurrentSsa: 4, featureGates: {} };
  const imageReflector = defaultImageReflectorFlags();
  for (let i = 0; i < rest.length; i++) {
    const m = /^--([a-zA-Z0-9-]+)(?:=(.*))?$/.exec(rest[i]);
    if (!m) throw new UsageError(`unexpected argument '${rest[i]}'`);
    const value = () => {
      if (m[2] !== undefined) return m[2];
      const v = rest[++i];
      if (v === undefined) throw new UsageError(`--${m[1]} needs a value`);
      return v;
    };
    const bool = () => {
      if (m[2] !== undefined) return m[2] === "true";
      if (rest[i + 1] === "true" || rest[i + 1] === "false") return rest[++i] === "true";
      return true;
    };
    if (kustomizeFlag(kustomize, m[1], value, bool)) continue;
    if (m[1] === "kubeconfig") kubeconfig = value();
    else if (m[1] === "only") only = value().split(",").map((s) => s.trim()).filter(Boolean);
    else if (m[1] === "events-addr") eventsAddr = value();
    // image-reflector-controller's --storage-path (its tag database); ours is named apart from source's.
    else if (m[1] === "image-storage-path") imageReflector.storagePath = value();
    // Flux's Deployments pass --log-encoding=json; our logs are always JSON (pino).
    else if (m[1] === "log-encoding") {
      const v = value();
      if (v !== "json" && v !== "console") throw new UsageError(`--log-encoding must be json or console, got '${v}'`);
    }
    else if (m[1] === "receiver-addr" || m[1] === "receiverAddr") notification.receiverAddr = value();
    else if (m[1] === "gcr-oidc-jwks-url") {
      const v = value();
      let ok = false;
      try { ok = /^https?:$/.test(new URL(v).protocol); } catch { ok = false; }
      if (!ok) throw new UsageError(`--gcr-oidc-jwks-url must be an http(s) URL of a JWKS (Google's is https://www.googleapis.com/oauth2/v3/certs), got '${v}'`);
      notification.gcrJwksUrl = v;
    }
    else if (m[1] === "rate-limit-interval") {
      const v = value();
      try { notification.rateLimitIntervalMs = parseDuration(v); } catch { throw new UsageError(`--rate-limit-interval: invalid duration '${v}'`); }
    }
    else if (SOURCE_FLAGS[m[1]]) {
      const k = SOURCE_FLAGS[m[1]];
      const v = value();
      if (k === "artifactRetentionRecords") {
        source[k] = Number(v);
        if (!Number.isInteger(source[k]) || source[k] < 1) throw new UsageError(`--${m[1]} must be a positive integer`);
      } else source[k] = v;
    } else throw new UsageError(`unknown flag --${m[1]}`);
  }
  for (const c of only) {
    if (!(KNOWN_CONTROLLERS as readonly string[]).includes(c)) throw new UsageError(`--only: unknown controller '${c}' (known: ${KNOWN_CONTROLLERS.join(", ")})`);
  }
  // In a pod (as Flux's controllers run) the ServiceAccount's in-cluster config is the default.
  const inCluster = !kubeconfig && !!process.env.KUBERNETES_SERVICE_HOST;
  if (!kubeconfig && !inCluster) throw new UsageError("--kubeconfig (or KUBECONFIG) is required outside a pod");
  // --events-addr is Flux's name for two things: where notification-controller listens (an
  // address, ":9690"), and where the other controllers send events (a URL). With the
  // notification controller in this process, the others send to it unless given a URL.
  const eventsUrl = eventsAddr && /^[a-z][a-z0-9+.-]*:\/\//i.test(eventsAddr) ? eventsAddr : undefined;
  if (eventsAddr && !eventsUrl) {
    if (!only.includes("notification")) {
      throw new UsageError(`--events-addr '${eventsAddr}' is a listen address, used only by the notification controller; to send events to a notification-controller, give its URL (e.g. http://notification-controller.flux-system.svc.cluster.local./)`);
    }
    notification.eventsAddr = eventsAddr;
  }
  notification.noCrossNamespaceRefs = kustomize.noCrossNamespaceRefs;
  imageReflector.requeueDependencyMs = flags.requeueDependencyMs;
  return { flags, source, kustomize, notification, imageReflector, kubeconfig, inCluster, only, eventsAddr, eventsUrl };
}

export const CONTROLLERS_RUN_USAGE = `usage: gitops controllers run [--kubeconfig K] [--only source,kustomize,helm,notification,source-watcher,image-reflector,image-automation] [flags]

Runs the controllers against a cluster: the kubeconfig's, or the in-cluster ServiceAccount's in a pod.
flags (Flux's names): --concurrent --kube-api-qps --kube-api-burst --log-level --log-encoding
  --metrics-addr --health-addr --enable-leader-election --watch-all-namespaces --watch-label-selector
  --requeue-dependency --events-addr
source, source-watcher: --storage-path --storage-addr --storage-adv-addr --artifact-retention-records
  (source-watcher is opt-in; with source in the same process it shares its storage and artifact server)
kustomize, helm: --no-cross-namespace-refs --default-service-account --concurrent-ssa --feature-gates
notification: --receiver-addr --rate-limit-interval (--events-addr is its listen address)
  --gcr-oidc-jwks-url (ours: where gcr Receivers fetch Google's ID-token keys; for air-gapped mirrors and tests)
image-reflector (only with --only): --image-storage-path (where scanned tags are kept)
image-automation (only with --only): --no-cross-namespace-refs; needs git (and gpg for OpenPGP commit signing)`;

export async function controllersRun(argv: string[]): Promise<number> {
  if (argv[0] !== "run") throw new UsageError("usage: gitops controllers run --kubeconfig K [--only source,kustomize] [flags]");
  // Before the checks: --help works anywhere, in a container image without a cluster too.
  if (argv.includes("--help") || argv.includes("-h")) { console.log(CONTROLLERS_RUN_USAGE); return 0; }
  const args = parseControllersArgs(argv.slice(1));
  requireTools(...args.only.filter((c) => c !== "image-reflector" && c !== "image-automation").map((c) => `controllers/${c}`));
  const kc = new k8s.KubeConfig();
  if (args.kubeconfig) {
    if (!fs.existsSync(args.kubeconfig)) throw new Error(`kubeconfig ${args.kubeconfig} does not exist`);
    kc.loadFromFile(args.kubeconfig);
  } else {
    kc.loadFromCluster();
  }
  // Flux's names: each controller leads through its own Lease (`source-controller-leader-election`),
  // so the four Deployments do not wait on one another; a combined process has one of its own.
  // A --watch-label-selector (a shard) suffixes the lease name as Flux does (leaseNameFor).
  const single = args.only[0] === "source-watcher" ? "source-watcher" : `${args.only[0]}-controller`; // Flux's name has no -controller
  const managerName = args.only.length === 1 ? single : `gitops-controllers-${[...args.only].sort().join("-")}`;
  const manager = new Manager({ name: managerName, kubeConfig: kc, flags: args.flags, runtimeNamespace: process.env.RUNTIME_NAMESPACE ?? "flux-system" });
  const closers: Array<() => Promise<void>> = [];
  // Every recorder's events go to notification-controller: the manager's, and the kustomize and
  // helm controllers' own (their Kubernetes Events name them as reportingComponent).
  const recorders: EventRecorder[] = [manager.events];
  let sourceStorage: import("../controllers/runtime/artifact-storage").Storage | undefined;
  if (args.only.includes("source")) {
    fs.mkdirSync(path.resolve(args.source.storagePath), { recursive: true });
    const source = await startSourceController(args.source);
    sourceStorage = source.storage;
    manager.log.info({ storage: args.source.storagePath, address: source.server.address, advertised: source.storage.advertisedAddress }, "artifact server listening");
    for (const d of source.definitions) manager.add(d);
    closers.push(source.close);
  }
  if (args.only.includes("source-watcher")) {
    const sw = await startSourceWatcher({
      ...args.source, storage: sourceStorage, noCrossNamespaceRefs: args.kustomize.noCrossNamespaceRefs,
      requeueDependencyMs: args.flags.requeueDependencyMs,
    });
    if (sw.server) {
      manager.log.info({ storage: args.source.storagePath, address: sw.server.address, advertised: sw.storage.advertisedAddress }, "source-watcher artifact server listening");
    }
    for (const d of sw.definitions) manager.add(d);
    closers.push(sw.close);
  }
  if (args.only.includes("kustomize")) {
    const k = args.kustomize;
    const kz = startKustomizeController({
      kubeConfig: kc, client: manager.client, logger: manager.log,
      kubeApiQps: args.flags.kubeApiQps, kubeApiBurst: args.flags.kubeApiBurst, requeueDependencyMs: args.flags.requeueDependencyMs,
      concurrentSsa: k.concurrentSsa, noCrossNamespaceRefs: k.noCrossNamespaceRefs, noRemoteBases: k.noRemoteBases, defaultServiceAccount: k.defaultServiceAccount,
      featureGates: k.featureGates, kustomizePath: tool("kustomize"), sopsPath: tool("sops"),
    });
    for (const d of kz.definitions) manager.add(d);
    closers.push(kz.close);
    recorders.push(kz.events);
  }
  if (args.only.includes("helm")) {
    const hc = startHelmController({
      kubeConfig: kc, client: manager.client, logger: manager.log, helmPath: tool("helm"), kustomizePath: tool("kustomize"),
      noCrossNamespaceRefs: args.kustomize.noCrossNamespaceRefs, requeueDependencyMs: args.flags.requeueDependencyMs,
      // --default-service-account: helm-controller has the same flag as kustomize-controller.
      defaultServiceAccount: args.kustomize.defaultServiceAccount,
      featureGates: args.kustomize.featureGates,
    });
    for (const d of hc.definitions) manager.add(d);
    closers.push(hc.close);
    recorders.push(hc.events);
  }
  if (args.only.includes("image-reflector")) {
    const ir = startImageReflectorController(args.imageReflector);
    manager.log.info({ storage: args.imageReflector.storagePath }, "image tag store");
    for (const d of ir.definitions) manager.add(d);
  }
  if (args.only.includes("image-automation")) {
    for (const d of imageAutomationControllers({ noCrossNamespaceRefs: args.kustomize.noCrossNamespaceRefs })) manager.add(d);
  }
  let eventsUrl = args.eventsUrl;
  if (args.only.includes("notification")) {
    const f = args.flags;
    const nc = await startNotificationController({
      ...args.notification, client: manager.client, events: manager.events, logger: manager.log, registry: manager.metrics.registry,
      labelSelector: f.watchLabelSelector || undefined, namespace: f.watchAllNamespaces ? undefined : (process.env.RUNTIME_NAMESPACE ?? "flux-system"),
    });
    for (const d of nc.definitions) manager.add(d);
    closers.push(nc.close);
    eventsUrl ??= nc.eventServer.url;
  }
  if (eventsUrl) {
    const forwarder = new EventForwarder({ address: eventsUrl, reportingController: managerName, logger: manager.log });
    for (const r of recorders) forwarder.attach(r);
    // First at shutdown: deliver what is in flight while the events endpoint still listens.
    closers.unshift(() => Promise.race([forwarder.flush(), new Promise<void>((r) => setTimeout(r, 5000).unref())]));
    manager.log.info({ address: eventsUrl }, "forwarding events to notification-controller");
  }
  await manager.start();
  manager.log.info({ controllers: args.only, ports: manager.ports }, "controllers started");
  await manager.done();
  for (const c of closers) await c();
  return 0;
}
