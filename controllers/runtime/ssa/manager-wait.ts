// Waiting on a set of objects: poll until each is Current (kstatus), fail early when every
// object is settled (Current or Failed) but some failed, or fail at the timeout naming the
// objects not Current, in Flux's words. Polls start fast and slow down to `intervalMs`, so a
// set that is ready at once costs one round. Objects of one resource and namespace are read
// with one LIST when there are several.
import { sleep, systemClock } from "../clock";
import { HealthStatus, StatusReader, computeStatus } from "../health";
import { isNotFound } from "../kube-errors";
import { mapLimit } from "./limit";
import type { ObjectRef, ResourceManager } from "./manager";
import { SsaError, apiMessage } from "./errors";
import { formatObjMetadata } from "./object-id";
import { ResourceMapping } from "./rest-mapper";

export interface WaitOptions {
  timeoutMs: number;
  /** Longest pause between polls; default 2 s. */
  intervalMs?: number;
  /** Stop at the first Failed object. */
  failFast?: boolean;
  /** Jobs that may be gone (TTL) and then count as done. */
  mayVanish?: (ref: ObjectRef) => boolean;
  /** Custom status (healthCheckExprs) for the kinds it covers; kstatus for the others. */
  statusReader?: StatusReader;
  signal?: AbortSignal;
}

type Seen = { status: HealthStatus; message: string };

export async function waitForSet(m: ResourceManager, refs: ObjectRef[], opts: WaitOptions): Promise<void> {
  if (refs.length === 0) return;
  const deadline = Date.now() + opts.timeoutMs;
  let pause = 200;
  let last = new Map<ObjectRef, Seen>();
  for (;;) {
    last = await pollOnce(m, refs, opts);
    const statuses = refs.map((r) => effective(r, last.get(r), opts));
    if (statuses.every((s) => s === HealthStatus.Current)) return;
    const settled = statuses.every((s) => s === HealthStatus.Current || s === HealthStatus.Failed);
    const anyFailed = statuses.includes(HealthStatus.Failed);
    if (settled || (opts.failFast && anyFailed)) throw new SsaError(`failed early due to stalled resources: [${laggards(refs, last, opts, false)}]`);
    if (Date.now() >= deadline) throw new SsaError(`timeout waiting for: [${laggards(refs, last, opts, true)}]`);
    await sleep(systemClock, Math.min(pause, Math.max(0, deadline - Date.now())), opts.signal);
    pause = Math.min(opts.intervalMs ?? 2000, pause * 1.5);
  }
}

export async function waitForTermination(m: ResourceManager, refs: ObjectRef[], opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (const ref of refs) {
    const mapping = await m.mapper.tryMapping(ref.apiVersion, ref.kind, opts.signal);
    if (!mapping) continue;
    for (;;) {
      const live = await m.client.get(mapping, { namespace: mapping.namespaced ? ref.namespace : "", name: ref.name }, { signal: opts.signal });
      if (!live) break;
      if (Date.now() >= deadline) throw new SsaError(`${formatObjMetadata(ref)} termination timeout: timed out waiting for the condition`);
      await sleep(systemClock, Math.min(opts.intervalMs ?? 1000, 1000), opts.signal);
    }
  }
}

function effective(ref: ObjectRef, seen: Seen | undefined, opts: WaitOptions): HealthStatus {
  if (!seen) return HealthStatus.Unknown;
  if (seen.status === HealthStatus.NotFound && opts.mayVanish?.(ref)) return HealthStatus.Current;
  return seen.status;
}

function laggards(refs: ObjectRef[], last: Map<ObjectRef, Seen>, opts: WaitOptions, timedOut: boolean): string {
  const out: string[] = [];
  for (const r of refs) {
    const s = last.get(r);
    const eff = effective(r, s, opts);
    if (!s || s.status === HealthStatus.Unknown) out.push(`can't determine status for ${formatObjMetadata(r)}${s?.message ? `: ${s.message}` : ""}`);
    else if (eff === HealthStatus.Failed || (timedOut && eff !== HealthStatus.Current)) out.push(`${formatObjMetadata(r)} status: '${s.status}'`);
  }
  return out.join(", ");
}

/** One status per ref: a LIST per (resource, namespace) with several refs, else GETs. */
async function pollOnce(m: ResourceManager, refs: ObjectRef[], opts: WaitOptions): Promise<Map<ObjectRef, Seen>> {
  const out = new Map<ObjectRef, Seen>();
  const groups = new Map<string, { mapping: ResourceMapping; ns: string; refs: ObjectRef[] }>();
  for (const r of refs) {
    let mapping: ResourceMapping | undefined;
    try {
      mapping = await m.mapper.tryMapping(r.apiVersion, r.kind, opts.signal);
    } catch (e) {
      out.set(r, { status: HealthStatus.Unknown, message: apiMessage(e) });
      continue;
    }
    if (!mapping) {
      out.set(r, { status: HealthStatus.Unknown, message: `no matches for kind "${r.kind}" in version "${r.apiVersion}"` });
      continue;
    }
    const ns = mapping.namespaced ? r.namespace : "";
    const k = `${mapping.group}/${mapping.plural}|${ns}`;
    const g = groups.get(k) ?? { mapping, ns, refs: [] };
    g.refs.push(r);
    groups.set(k, g);
  }
  await mapLimit([...groups.values()], m.concurrency, async ({ mapping, ns, refs: group }) => {
    const read = (o: Record<string, unknown> | undefined): Seen => {
      if (!o) return { status: HealthStatus.NotFound, message: "" };
      const full = { ...o, apiVersion: group[0].apiVersion, kind: mapping.kind };
      return opts.statusReader?.(full) ?? computeStatus(full);
    };
    try {
      if (group.length >= 4) {
        const list = await m.client.list(mapping, { namespace: ns, signal: opts.signal });
        const byName = new Map(list.items.map((i) => [i.metadata?.name ?? "", i as Record<string, unknown>]));
        for (const r of group) out.set(r, read(byName.get(r.name)));
        return;
      }
      await mapLimit(group, m.concurrency, async (r) => {
        out.set(r, read(await m.client.get(mapping, { namespace: ns, name: r.name }, { signal: opts.signal })));
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      for (const r of group) if (!out.has(r)) out.set(r, { status: HealthStatus.Unknown, message: isNotFound(e) ? "" : apiMessage(e) });
    }
  });
  return out;
}
