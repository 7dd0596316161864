// Force: an object whose immutable fields changed is deleted (background propagation) and,
// once it is gone, applied again from scratch.
import { sleep, systemClock } from "../clock";
import { isNotFound } from "../kube-errors";
import { SsaError, apiMessage } from "./errors";
import type { ApplyOptions } from "./manager-apply";
import type { ResourceManager } from "./manager";
import { Desired } from "./manager-existing";
import { Unstructured, formatObject } from "./object-id";

export async function recreate(m: ResourceManager, d: Desired, existing: Unstructured, opts: ApplyOptions): Promise<void> {
  const ns = d.mapping.namespaced ? d.obj.metadata?.namespace ?? "" : "";
  const key = { namespace: ns, name: d.obj.metadata?.name ?? "" };
  const subject = formatObject(d.obj);
  try {
    await m.client.delete(d.mapping, key, { propagationPolicy: "Background", preconditions: { uid: existing.metadata?.uid }, signal: opts.signal });
  } catch (e) {
    if (!isNotFound(e)) throw new SsaError(`${subject} immutable field detected, failed to delete object: ${apiMessage(e)}`, subject, { cause: e });
  }
  const deadline = Date.now() + (opts.waitTimeoutMs ?? 60_000);
  for (;;) {
    const live = await m.client.get(d.mapping, key, { signal: opts.signal });
    if (!live || live.metadata?.uid !== existing.metadata?.uid) return;
    if (Date.now() > deadline) throw new SsaError(`${subject} immutable field detected, failed to wait for object to be deleted: timed out`, subject);
    await sleep(systemClock, 250, opts.signal);
  }
}
