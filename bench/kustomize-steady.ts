// Steady state: every Ready Kustomization reconciled again with an unchanged revision and no
// drift (a reconcile request annotation on each, as `flux reconcile ks` sets it), timed until each
// reports it handled the request. API requests are the controller's own count
// (rest_client_requests_total, the same client-go metric on both sides), read before and after.
import * as http from "node:http";
import { KubeClient, PatchType } from "../controllers/runtime/kube";
import { Watcher } from "../controllers/runtime/watch";
import { Proc, cpuSeconds } from "./kustomize-procs";
import { kustomizationsRes } from "./kustomize-workload";

export interface SteadyResult { wall_s: number; cpu_s: number; requests: number; requests_per_kustomization: number; by_method: Record<string, number> }

/** rest_client_requests_total at a metrics address (host:port), by method. */
export async function requestsSent(metricsAddr: string): Promise<Record<string, number>> {
  const text = await new Promise<string>((resolve, reject) => {
    http.get(`http://${metricsAddr}/metrics`, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => resolve(body));
    }).on("error", reject);
  });
  const by: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^rest_client_requests_total\{([^}]*)\} ([0-9.e+]+)$/.exec(line);
    const method = m && /method="([A-Z]+)"/.exec(m[1])?.[1];
    if (m && method) by[method] = (by[method] ?? 0) + Number(m[2]);
  }
  return by;
}

type K = { metadata?: { name?: string }; status?: { lastHandledReconcileAt?: string } };

export async function steadyRun(client: KubeClient, namespace: string, count: number, proc: Proc, metricsAddr: string, log: (m: string) => void): Promise<SteadyResult> {
  const token = `steady-${Date.now()}`;
  const handled = new Set<string>();
  let resolve!: () => void;
  const done = new Promise<void>((r) => { resolve = r; });
  const watcher = new Watcher<K>(client, {
    resource: kustomizationsRes, namespace,
    onEvent: (ev) => {
      if (ev.object.status?.lastHandledReconcileAt === token) handled.add(ev.object.metadata!.name!);
      if (handled.size >= count) resolve();
    },
  });
  // Let the first-apply work settle (requeues, events) before counting.
  await new Promise((r) => setTimeout(r, 5000));
  const before = await requestsSent(metricsAddr);
  const cpu0 = cpuSeconds(proc.child.pid!);
  const t0 = Date.now();
  watcher.start();
  const list = await client.list<K>(kustomizationsRes, { namespace });
  for (const k of list.items) {
    await client.patch(kustomizationsRes, { namespace, name: k.metadata!.name! },
      { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": token } } }, { type: PatchType.Merge, fieldManager: "bench" });
  }
  const ticker = setInterval(() => log(`steady: ${handled.size}/${count} handled`), 10_000);
  try {
    await done;
  } finally {
    clearInterval(ticker);
    watcher.stop();
  }
  const wall = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(proc.child.pid!) - cpu0;
  const after = await requestsSent(metricsAddr);
  const byMethod: Record<string, number> = Object.fromEntries(Object.entries(after).map(([k, n]) => [k, n - (before[k] ?? 0)]).filter(([, n]) => (n as number) > 0));
  const requests = Object.values(byMethod).reduce((a, n) => a + n, 0);
  return { wall_s: +wall.toFixed(1), cpu_s: +cpu.toFixed(1), requests, requests_per_kustomization: +(requests / count).toFixed(2), by_method: byMethod };
}
