// Prometheus metrics of the runtime, named as Flux's controllers name them where Flux has a
// name (gotk_reconcile_duration_seconds, gotk_suspend_status, workqueue_depth).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ResultType } from "./result";
import { requestCounts } from "./kube-transport";

/** The `result` label of gotk_reconcile_total. */
export type ReconcileOutcome = ResultType | "error";

export interface RuntimeMetrics {
  readonly registry: Registry;
  /** Seconds per reconcile, by kind and object (Flux's labels). */
  readonly reconcileDuration: Histogram<"kind" | "name" | "namespace">;
  /** Reconciles by kind and outcome: done, requeueAfter, retry, terminal, error (a throw). */
  readonly reconcileTotal: Counter<"kind" | "result">;
  /** Ready keys waiting, per controller. */
  readonly queueDepth: Gauge<"name">;
  /** Keys re-queued with back-off, per controller. */
  readonly queueRetries: Counter<"name">;
  /** 1 when an object is suspended (spec.suspend), 0 otherwise. */
  readonly suspendStatus: Gauge<"kind" | "name" | "namespace">;
}

export interface MetricsOptions {
  /** A registry to add to; a new one by default. */
  registry?: Registry;
  /** Also collect Node.js process metrics; default true. */
  processMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): RuntimeMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // client-go's name and labels, so Flux's dashboards and the benchmarks count both alike.
  new Counter({
    name: "rest_client_requests_total", help: "Number of HTTP requests, partitioned by status code, method, and host.",
    labelNames: ["code", "method", "host"], registers,
    collect() {
      this.reset();
      for (const [k, n] of requestCounts) {
        const [code, method, host] = k.split("|");
        this.inc({ code, method, host }, n);
      }
    },
  });
  return {
    registry,
    reconcileDuration: new Histogram({
      name: "gotk_reconcile_duration_seconds", help: "The duration in seconds of a GitOps Toolkit resource reconciliation.",
      labelNames: ["kind", "name", "namespace"], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    }),
    reconcileTotal: new Counter({
      name: "gotk_reconcile_total", help: "Reconciliations by kind and result.", labelNames: ["kind", "result"], registers,
    }),
    queueDepth: new Gauge({ name: "workqueue_depth", help: "Current depth of workqueue.", labelNames: ["name"], registers }),
    queueRetries: new Counter({ name: "workqueue_retries_total", help: "Total number of retries handled by workqueue.", labelNames: ["name"], registers }),
    suspendStatus: new Gauge({
      name: "gotk_suspend_status", help: "The current suspend status of a GitOps Toolkit resource.",
      labelNames: ["kind", "name", "namespace"], registers,
    }),
  };
}
