// Leader election on a coordination.k8s.io/v1 Lease. A candidate takes the lease when it is
// free (no holder, or released) or when its record has not changed for leaseDuration as
// observed on the candidate's own clock (no clock comparison across machines). The leader
// renews every retryPeriod and steps down when it could not renew for renewDeadline, which is
// shorter than leaseDuration: it stops before anyone else may start. Writes are guarded by
// resourceVersion, so two candidates racing for the same record cannot both win.
import { jittered } from "./backoff";
import { Clock, sleep, systemClock } from "./clock";
import { KubeClient, ResourceRef } from "./kube";
import { isAlreadyExists, isConflict } from "./kube-errors";
import { KubeObject } from "./keys";
import { Logger, silentLogger } from "./logger";

export const leases: ResourceRef = { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" };

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject { spec?: LeaseSpec }

/** Storage of the one Lease (the API server in production, a map in unit tests). */
export interface LeaseStore {
  get(signal: AbortSignal): Promise<Lease | undefined>;
  /** Creates it; resolves false when it already exists. */
  create(spec: LeaseSpec, signal: AbortSignal): Promise<Lease | false>;
  /** Replaces the spec if `lease`'s resourceVersion is current; false on conflict. */
  update(lease: Lease, spec: LeaseSpec, signal: AbortSignal): Promise<Lease | false>;
}

export interface LeaderElectionOptions {
  /** Unique per process, e.g. pod name + random suffix. */
  identity: string;
  /** Default 15 s (Flux: --leader-election-lease-duration=35s). */
  leaseDurationMs?: number;
  /** Default 10 s (Flux: 30s); must be shorter than leaseDuration. */
  renewDeadlineMs?: number;
  /** Default 2 s (Flux: 5s). */
  retryPeriodMs?: number;
  /** Release the lease when stopped, so a successor starts at once. Default true. */
  releaseOnCancel?: boolean;
  /** Called on becoming leader; `signal` aborts when leadership ends. */
  onStartedLeading?: (signal: AbortSignal) => void;
  /** Called when leadership ends; awaited before the lease is released. */
  onStoppedLeading?: () => void | Promise<void>;
  /** Called when the observed holder changes. */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
}

export class LeaderElector {
  readonly #store: LeaseStore;
  readonly #opts: LeaderElectionOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #durationMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  #observedRv?: string;
  #observedAt = 0;
  #observed?: LeaseSpec;
  #leading = false;
  /** When the last successful attempt started (a conservative renew time). */
  #lastSuccessAt = 0;

  constructor(store: LeaseStore, opts: LeaderElectionOptions) {
    this.#store = store;
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
    this.#log = (opts.logger ?? silentLogger).child({ identity: opts.identity });
    this.#durationMs = opts.leaseDurationMs ?? 15_000;
    this.#deadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.#retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.#deadlineMs >= this.#durationMs) throw new Error("leader election: renewDeadline must be shorter than leaseDuration");
    if (this.#retryMs >= this.#deadlineMs) throw new Error("leader election: retryPeriod must be shorter than renewDeadline");
  }

  isLeader(): boolean { return this.#leading; }
  /** The holder as last observed. */
  leader(): string | undefined { return this.#observed?.holderIdentity || undefined; }

  /**
   * Campaigns until leading, leads until leadership is lost or `signal` aborts, then returns.
   * Returns without leading when `signal` aborts first.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await this.#tryAcquireOrRenew(signal, this.#retryMs))) {
      await sleep(this.#clock, jittered(this.#retryMs, 0.2, this.#opts.random), signal).catch(() => undefined);
    }
    if (signal.aborted) return;
    this.#leading = true;
    const leadership = new AbortController();
    this.#log.info("acquired the lease, leading");
    this.#opts.onStartedLeading?.(leadership.signal);
    let lastRenew = this.#lastSuccessAt;
    try {
      while (!signal.aborted) {
        await sleep(this.#clock, this.#retryMs, signal).catch(() => undefined);
        if (signal.aborted) break;
        const left = lastRenew + this.#deadlineMs - this.#clock.now();
        if (left > 0 && (await this.#tryAcquireOrRenew(signal, left))) {
          lastRenew = this.#lastSuccessAt;
        } else if (this.#clock.now() - lastRenew >= this.#deadlineMs) {
          this.#log.error("could not renew the lease before the renew deadline, stepping down");
          break;
        }
      }
    } finally {
      this.#leading = false;
      leadership.abort(new Error("leadership ended"));
      await Promise.resolve(this.#opts.onStoppedLeading?.()).catch((e: unknown) => this.#log.error({ error: e }, "onStoppedLeading failed"));
      if (signal.aborted && (this.#opts.releaseOnCancel ?? true)) await this.#release();
    }
  }

  /** One attempt, bounded by `timeoutMs`; true when we hold the lease afterwards. */
  async #tryAcquireOrRenew(outer: AbortSignal, timeoutMs: number): Promise<boolean> {
    const timeout = new AbortController();
    const cancel = this.#clock.setTimer(() => timeout.abort(new Error("lease request timed out")), timeoutMs);
    const signal = AbortSignal.any([outer, timeout.signal]);
    const now = this.#clock.now();
    const mine: LeaseSpec = {
      holderIdentity: this.#opts.identity, leaseDurationSeconds: Math.ceil(this.#durationMs / 1000),
      acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0,
    };
    try {
      const lease = await this.#store.get(signal);
      if (!lease) {
        const created = await this.#store.create(mine, signal);
        if (!created) return false;
        this.#observe(created);
        this.#lastSuccessAt = now;
        return true;
      }
      this.#observe(lease);
      const rec = lease.spec ?? {};
      const holder = rec.holderIdentity ?? "";
      const validMs = (rec.leaseDurationSeconds ?? 0) * 1000;
      if (holder && holder !== this.#opts.identity && this.#observedAt + validMs > now) return false;
      const spec: LeaseSpec = holder === this.#opts.identity
        ? { ...rec, leaseDurationSeconds: mine.leaseDurationSeconds, renewTime: mine.renewTime }
        : { ...mine, leaseTransitions: (rec.leaseTransitions ?? 0) + 1 };
      const updated = await this.#store.update(lease, spec, signal);
      if (!updated) return false;
      this.#observe(updated);
      this.#lastSuccessAt = now;
      return true;
    } catch (e) {
      if (!outer.aborted) this.#log.warn({ error: e }, "lease request failed");
      return false;
    } finally {
      cancel();
    }
  }

  /** Gives the lease up (holder cleared) if we still hold it, so a successor need not wait. */
  async #release(): Promise<void> {
    const signal = AbortSignal.timeout(this.#deadlineMs);
    try {
      const lease = await this.#store.get(signal);
      if (!lease || lease.spec?.holderIdentity !== this.#opts.identity) return;
      const now = microTime(this.#clock.now());
      const released = await this.#store.update(lease, { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now }, signal);
      if (released) this.#log.info("released the lease");
    } catch (e) {
      this.#log.warn({ error: e }, "could not release the lease");
    }
  }

  /** Records the lease as seen now when it changed since the last look. */
  #observe(lease: Lease): void {
    const rv = lease.metadata?.resourceVersion;
    if (rv !== undefined && rv === this.#observedRv) return;
    const before = this.#observed?.holderIdentity;
    this.#observedRv = rv;
    this.#observedAt = this.#clock.now();
    this.#observed = { ...lease.spec };
    const holder = lease.spec?.holderIdentity ?? "";
    if (holder !== (before ?? "") && holder) this.#opts.onNewLeader?.(holder);
  }
}

/** A LeaseStore on the API server. */
export function kubeLeaseStore(client: KubeClient, namespace: string, name: string): LeaseStore {
  const key = { namespace, name };
  return {
    get: (signal) => client.get<Lease>(leases, key, { signal }),
    async create(spec, signal) {
      try {
        return await client.create<Lease>(leases, { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name, namespace }, spec }, { signal });
      } catch (e) {
        if (isAlreadyExists(e) || isConflict(e)) return false;
        throw e;
      }
    },
    async update(lease, spec, signal) {
      try {
        return await client.replace<Lease>(leases, { ...lease, spec }, { signal });
      } catch (e) {
        if (isConflict(e)) return false;
        throw e;
      }
    },
  };
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
