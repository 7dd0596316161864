// kstatus: the status of any Kubernetes object computed from the object alone (Current,
// InProgress, Failed, Terminating), with the rules and messages of kubernetes-sigs/cli-utils
// as Flux uses them: generic rules (deletion, observedGeneration, Reconciling/Stalled), then
// per-kind rules for built-in workloads, then a Ready condition, else Current. Jobs are
// Current only once complete (Flux's job reader), so health checks wait for them.
import { HealthResult, HealthStatus, Obj, conditionsOf, current, failed, field, inProgress } from "./result";
import { workloadStatus } from "./workloads";

/** Computes the kstatus of a live object. */
export function computeStatus(obj: Obj): HealthResult {
  const generic = genericStatus(obj);
  if (generic) return generic;
  const apiVersion = String(obj.apiVersion ?? "");
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  const specific = workloadStatus(group, String(obj.kind ?? ""), obj);
  if (specific) return specific;
  const ready = conditionsOf(obj).find((c) => c.type === "Ready");
  if (ready?.status === "True") return current("Resource is Ready");
  if (ready?.status === "False" || ready?.status === "Unknown") return inProgress(ready.message ?? "");
  return current("Resource is current");
}

function genericStatus(obj: Obj): HealthResult | undefined {
  if (field(obj, "metadata.deletionTimestamp")) return { status: HealthStatus.Terminating, message: "Resource scheduled for deletion" };
  const generation = field(obj, "metadata.generation");
  const observed = field(obj, "status.observedGeneration");
  if (typeof generation === "number" && typeof observed === "number" && observed !== generation) {
    return inProgress(`${String(obj.kind)} generation is ${generation}, but latest observed generation is ${observed}`);
  }
  for (const c of conditionsOf(obj)) {
    if (c.type === "Reconciling" && c.status === "True") return inProgress(c.message ?? "");
    if (c.type === "Stalled" && c.status === "True") return failed(c.message ?? "");
  }
  return undefined;
}
