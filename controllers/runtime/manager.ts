// The process owner: runs N controllers, the metrics and health endpoints, leader election
// (controllers run only while leading), and a graceful shutdown on SIGTERM/SIGINT: stop the
// watches, drain the queues, release the lease, close the endpoints.
import type { KubeConfig } from "@kubernetes/client-node";
import { createHash, randomBytes } from "node:crypto";
import * as os from "node:os";
import { BackoffOptions } from "./backoff";
import { Clock, systemClock } from "./clock";
import { ControllerDefinition, ControllerRunner } from "./controller";
import { EndpointServer } from "./endpoint-server";
import { EventRecorder } from "./events";
import { RuntimeFlags, defaultRuntimeFlags } from "./flags";
import { KubeClient } from "./kube";
import { KubeObject } from "./keys";
import { LeaderElector, kubeLeaseStore } from "./leader-election";
import { Logger, createLogger } from "./logger";
import { RuntimeMetrics, createMetrics } from "./metrics";

export interface ManagerOptions {
  /** The controller binary's name, e.g. "source-controller": events' reportingController, the lease name. */
  name: string;
  /** Where to connect; or pass `client`. */
  kubeConfig?: KubeConfig;
  client?: KubeClient;
  /** Parsed flags (parseRuntimeFlags); unspecified ones take Flux's defaults. */
  flags?: Partial<RuntimeFlags>;
  /** The namespace the controller runs in (RUNTIME_NAMESPACE): the lease lives here, and primary watches are limited to it when --watch-all-namespaces=false. */
  runtimeNamespace?: string;
  /** Lease name; default `<name>-leader-election`, suffixed per --watch-label-selector (leaseNameFor). */
  leaseName?: string;
  /** Leader identity; default `<hostname>_<random>`. */
  identity?: string;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  clock?: Clock;
  backoff?: BackoffOptions;
  /** Stop on SIGTERM/SIGINT; default true. */
  handleSignals?: boolean;
  random?: () => number;
}

/**
 * Flux's lease name (fluxcd/pkg leaderelection.GenerateID): `<name>-leader-election`, and with a
 * --watch-label-selector the first 8 hex digits of its SHA-256 appended, so shards running the
 * same controller with different selectors each lead on their own.
 */
export function leaseNameFor(name: string, labelSelector = ""): string {
  const base = `${name}-leader-election`;
  return labelSelector ? `${base}-${createHash("sha256").update(labelSelector).digest("hex").slice(0, 8)}` : base;
}

export type ManagerState = "new" | "running" | "stopping" | "stopped";

export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly metrics: RuntimeMetrics;
  readonly events: EventRecorder;
  readonly flags: RuntimeFlags;
  readonly #opts: ManagerOptions;
  readonly #defs: ControllerDefinition<KubeObject>[] = [];
  #runners: ControllerRunner<KubeObject>[] = [];
  #servers: EndpointServer[] = [];
  #elector?: LeaderElector;
  #electorRun?: Promise<void>;
  readonly #stopElection = new AbortController();
  #state: ManagerState = "new";
  #stopped?: Promise<void>;
  #resolveDone!: () => void;
  readonly #done = new Promise<void>((r) => { this.#resolveDone = r; });
  #controllersStarted?: Promise<void>;
  #onSignal?: (sig: NodeJS.Signals) => void;

  constructor(opts: ManagerOptions) {
    this.#opts = opts;
    this.flags = { ...defaultRuntimeFlags, ...opts.flags };
    this.log = opts.logger ?? createLogger({ level: this.flags.logLevel });
    if (opts.client) this.client = opts.client;
    else if (opts.kubeConfig) {
      this.client = KubeClient.fromKubeConfig(opts.kubeConfig, {
        qps: this.flags.kubeApiQps, burst: this.flags.kubeApiBurst, userAgent: opts.name,
      });
    } else throw new Error("Manager: pass kubeConfig or client");
    this.metrics = opts.metrics ?? createMetrics();
    this.events = new EventRecorder(this.client, {
      reportingController: opts.name, reportingInstance: os.hostname(), logger: this.log, clock: opts.clock,
    });
  }

  get state(): ManagerState { return this.#state; }
  /** Ports the endpoint servers bound (useful with ":0"). */
  get ports(): number[] { return this.#servers.map((s) => s.port); }
  isLeader(): boolean { return this.#elector ? this.#elector.isLeader() : this.#state === "running"; }
  /** Ready: running, and (when leading) every controller's caches synced. */
  isReady(): boolean {
    if (this.#state !== "running") return false;
    if (this.#elector && !this.#elector.isLeader()) return true;
    return this.#runners.length === this.#defs.length && this.#runners.every((r) => r.hasSynced());
  }
  /** The runner of a controller, by definition name (while leading). */
  runner(name: string): ControllerRunner<KubeObject> | undefined { return this.#runners.find((r) => r.def.name === name); }

  add<T extends KubeObject>(def: ControllerDefinition<T>): this {
    if (this.#state !== "new") throw new Error("Manager.add: already started");
    if (this.#defs.some((d) => d.name === def.name)) throw new Error(`Manager.add: duplicate controller "${def.name}"`);
    this.#defs.push(def as unknown as ControllerDefinition<KubeObject>);
    return this;
  }

  /**
   * Starts the endpoints, then either campaigns for the lease (controllers start on winning)
   * or starts the controllers at once. Resolves when started; `done()` resolves at the end.
   */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error("Manager.start: already started");
    this.#state = "running";
    await this.#startServers();
    if (this.#opts.handleSignals ?? true) {
      this.#onSignal = (sig) => { this.log.info({ signal: sig }, "shutting down"); void this.stop(); };
      process.once("SIGTERM", this.#onSignal);
      process.once("SIGINT", this.#onSignal);
    }
    if (!this.flags.enableLeaderElection) {
      await this.#startControllers();
      return;
    }
    const ns = this.#opts.runtimeNamespace ?? process.env.RUNTIME_NAMESPACE;
    if (!ns) throw new Error("leader election needs the runtime namespace (RUNTIME_NAMESPACE)");
    const identity = this.#opts.identity ?? `${os.hostname()}_${randomBytes(4).toString("hex")}`;
    this.#elector = new LeaderElector(kubeLeaseStore(this.client, ns, this.#opts.leaseName ?? leaseNameFor(this.#opts.name, this.flags.watchLabelSelector)), {
      identity, clock: this.#opts.clock, logger: this.log, random: this.#opts.random,
      leaseDurationMs: this.flags.leaderElectionLeaseDurationMs, renewDeadlineMs: this.flags.leaderElectionRenewDeadlineMs,
      retryPeriodMs: this.flags.leaderElectionRetryPeriodMs, releaseOnCancel: this.flags.leaderElectionReleaseOnCancel,
      onStartedLeading: () => { this.#controllersStarted = this.#startControllers().catch((e: unknown) => this.#fail(e)); },
      onStoppedLeading: async () => {
        await this.#stopControllers();
        if (this.#state === "running") {
          this.log.error("leader election lost");
          void this.stop();
        }
      },
      onNewLeader: (id) => { if (id !== identity) this.log.info({ leader: id }, "new leader elected"); },
    });
    this.#electorRun = this.#elector.run(this.#stopElection.signal);
  }

  /** Resolves once the manager has stopped. */
  done(): Promise<void> { return this.#done; }

  /** Graceful stop; idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= this.#shutdown();
    return this.#stopped;
  }

  async #shutdown(): Promise<void> {
    this.#state = "stopping";
    if (this.#onSignal) {
      process.off("SIGTERM", this.#onSignal);
      process.off("SIGINT", this.#onSignal);
    }
    this.#stopElection.abort(new Error("manager stopping"));
    if (this.#electorRun) await this.#electorRun;
    else await this.#stopControllers();
    await Promise.all(this.#servers.map((s) => s.close()));
    this.#state = "stopped";
    this.log.info("manager stopped");
    this.#resolveDone();
  }

  async #startControllers(): Promise<void> {
    const f = this.flags;
    const namespace = f.watchAllNamespaces ? undefined : (this.#opts.runtimeNamespace ?? process.env.RUNTIME_NAMESPACE);
    this.#runners = this.#defs.map((def) => new ControllerRunner(def, {
      client: this.client, logger: this.log, metrics: this.metrics, events: this.events, clock: this.#opts.clock ?? systemClock,
      concurrency: f.concurrent, backoff: this.#opts.backoff, namespace, labelSelector: f.watchLabelSelector || undefined,
      intervalJitter: f.intervalJitterPercentage / 100, random: this.#opts.random,
    }));
    await Promise.all(this.#runners.map((r) => r.start(this.#stopElection.signal)));
  }

  async #stopControllers(): Promise<void> {
    await this.#controllersStarted?.catch(() => undefined);
    const runners = this.#runners;
    const reports = await Promise.all(runners.map((r) => r.stop(this.flags.gracefulShutdownTimeoutMs)));
    const abandoned = reports.flatMap((r) => r.abandoned);
    if (abandoned.length) this.log.warn({ abandoned }, "reconciles abandoned at shutdown");
  }

  async #startServers(): Promise<void> {
    const { metricsAddr, healthAddr } = this.flags;
    const probes = { healthz: () => this.#state !== "stopped", readyz: () => this.isReady() };
    const addrs = [...new Set([metricsAddr, healthAddr].filter((a) => a !== "" && a !== "0"))];
    for (const addr of addrs) {
      const server = new EndpointServer({ addr, registry: this.metrics.registry, ...probes });
      await server.start();
      this.#servers.push(server);
      this.log.info({ addr, port: server.port }, "serving metrics and probes");
    }
  }

  #fail(e: unknown): void {
    if (this.#state !== "running") return;
    this.log.error({ error: e }, "controllers failed to start");
    void this.stop();
  }
}
