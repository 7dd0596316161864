// Shared by the real-node tests: the controllers' pods, and what to print when they misbehave.
import * as fs from "node:fs";
import * as path from "node:path";
import { Cluster } from "../../provider/cluster/client";

export const NS = "flux-system";
export const CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];

export interface PodView {
  metadata: { name: string; namespace: string; uid: string; creationTimestamp?: string; labels?: Record<string, string> };
  spec: { containers: { name: string; image: string }[] };
  status?: {
    phase?: string; startTime?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
    containerStatuses?: { name: string; ready: boolean; restartCount: number; state?: Record<string, { reason?: string; message?: string; exitCode?: number }>; lastState?: Record<string, { reason?: string; message?: string; exitCode?: number }> }[];
  };
}

export const isReady = (p: PodView): boolean => !!p.status?.conditions?.some((x) => x.type === "Ready" && x.status === "True");

/** The Ready pod of each controller, by its `app` label. */
export async function controllerPods(c: Cluster, ns = NS): Promise<Record<string, PodView>> {
  const out: Record<string, PodView> = {};
  for (const p of await c.list<PodView>("v1", "Pod", { namespace: ns })) {
    const app = p.metadata.labels?.app;
    if (app && isReady(p)) out[app] = p;
  }
  return out;
}

/** The last lines the kubelet logged for a pod's containers (/var/log/pods, this host is the node), matching `filter`. */
export function podLogTail(p: PodView, lines = 30, filter?: RegExp): string {
  const dir = path.join("/var/log/pods", `${p.metadata.namespace}_${p.metadata.name}_${p.metadata.uid}`);
  const out: string[] = [];
  for (const container of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    for (const f of fs.readdirSync(path.join(dir, container)).sort()) {
      const text = fs.readFileSync(path.join(dir, container, f), "utf8").trimEnd().split("\n").filter((l) => !filter || filter.test(l)).slice(-lines);
      out.push(`  --- ${container}/${f}`, ...text.map((l) => `  ${l}`));
    }
  }
  return out.join("\n");
}

/** Pods, container states, warnings and log tails of a namespace: printed when a real-node test fails. */
export async function describeNamespace(c: Cluster, ns = NS): Promise<string> {
  const out: string[] = [`== namespace ${ns}`];
  for (const p of await c.list<PodView>("v1", "Pod", { namespace: ns }).catch(() => [] as PodView[])) {
    out.push(`pod ${p.metadata.name}: ${p.status?.phase} ready=${isReady(p)}`);
    for (const s of p.status?.containerStatuses ?? []) {
      out.push(`  ${s.name}: restarts=${s.restartCount} state=${JSON.stringify(s.state)} last=${JSON.stringify(s.lastState ?? {})}`);
    }
    out.push(podLogTail(p));
  }
  type Ev = { type?: string; reason?: string; message?: string; involvedObject?: { kind?: string; name?: string } };
  for (const e of await c.list<Ev>("v1", "Event", { namespace: ns }).catch(() => [] as Ev[])) {
    if (e.type === "Warning") out.push(`event ${e.involvedObject?.kind}/${e.involvedObject?.name}: ${e.reason}: ${e.message}`);
  }
  return out.join("\n");
}
