// Per-kind kstatus rules for built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet,
// Job, Pod, PVC, Service, PDB, CRD), with kstatus' messages.
import { Cond, HealthResult, Obj, conditionsOf, current, failed, field, inProgress, intField } from "./result";

type Rule = (obj: Obj) => HealthResult;

const always: Rule = () => current("Resource is always ready");

const RULES: Record<string, Rule> = {
  "Service": serviceStatus,
  "Pod": podStatus,
  "Secret": always,
  "ConfigMap": always,
  "PersistentVolumeClaim": (o) => {
    const phase = String(field(o, "status.phase") ?? "unknown");
    return phase === "Bound" ? current("PVC is Bound") : inProgress(`PVC is not Bound. phase: ${phase}`);
  },
  "apps/StatefulSet": statefulSetStatus,
  "apps/DaemonSet": daemonSetStatus,
  "apps/Deployment": deploymentStatus,
  "apps/ReplicaSet": replicaSetStatus,
  "policy/PodDisruptionBudget": () => current("AllowedDisruptions has been computed."),
  "batch/CronJob": always,
  "batch/Job": jobStatus,
  "apiextensions.k8s.io/CustomResourceDefinition": crdStatus,
};

export function workloadStatus(group: string, kind: string, obj: Obj): HealthResult | undefined {
  const rule = RULES[group ? `${group}/${kind}` : kind];
  return rule?.(obj);
}

const hasCond = (conds: Cond[], type: string, status: string) => conds.some((c) => c.type === type && c.status === status);

function deploymentStatus(o: Obj): HealthResult {
  let progressing = field(o, "spec.progressDeadlineSeconds") === undefined;
  let available = false;
  for (const c of conditionsOf(o)) {
    if (c.type === "Progressing") {
      if (c.reason === "ProgressDeadlineExceeded") return failed("Progress deadline exceeded");
      if (c.status === "True" && c.reason === "NewReplicaSetAvailable") progressing = true;
    } else if (c.type === "Available" && c.status === "True") available = true;
  }
  const spec = intField(o, "spec.replicas", 1);
  const replicas = intField(o, "status.replicas", 0);
  const updated = intField(o, "status.updatedReplicas", 0);
  const ready = intField(o, "status.readyReplicas", 0);
  const avail = intField(o, "status.availableReplicas", 0);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > updated) return inProgress(`Updated: ${updated}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (updated > avail) return inProgress(`Available: ${avail}/${updated}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (!progressing) return inProgress("ReplicaSet not Available");
  if (!available) return inProgress("Deployment not Available");
  return current(`Deployment is available. Replicas: ${replicas}`);
}

function replicaSetStatus(o: Obj): HealthResult {
  if (hasCond(conditionsOf(o), "ReplicaFailure", "True")) return inProgress("Replica Failure condition. Check Pods");
  const spec = intField(o, "spec.replicas", 1);
  const replicas = intField(o, "status.replicas", 0);
  const labelled = intField(o, "status.fullyLabeledReplicas", 0);
  const avail = intField(o, "status.availableReplicas", 0);
  const ready = intField(o, "status.readyReplicas", 0);
  if (spec > labelled) return inProgress(`Labelled: ${labelled}/${spec}`);
  if (spec > avail) return inProgress(`Available: ${avail}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  return current(`ReplicaSet is available. Replicas: ${replicas}`);
}

function statefulSetStatus(o: Obj): HealthResult {
  if (field(o, "spec.updateStrategy.type") === "OnDelete") return current("StatefulSet is using the ondelete update strategy");
  const spec = intField(o, "spec.replicas", 1);
  const ready = intField(o, "status.readyReplicas", 0);
  const cur = intField(o, "status.currentReplicas", 0);
  const updated = intField(o, "status.updatedReplicas", 0);
  const replicas = intField(o, "status.replicas", 0);
  const partition = intField(o, "spec.updateStrategy.rollingUpdate.partition", -1);
  if (spec > replicas) return inProgress(`Replicas: ${replicas}/${spec}`);
  if (spec > ready) return inProgress(`Ready: ${ready}/${spec}`);
  if (replicas > spec) return inProgress(`Pending termination: ${replicas - spec}`);
  if (partition !== -1) {
    if (updated < spec - partition) return inProgress(`updated: ${updated}/${spec - partition}`);
    return current(`Partition rollout complete. updated: ${updated}`);
  }
  if (spec > cur) return inProgress(`current: ${cur}/${spec}`);
  if (field(o, "status.currentRevision") !== field(o, "status.updateRevision")) return inProgress("Waiting for updated revision to match current");
  return current(`All replicas scheduled as expected. Replicas: ${replicas}`);
}

function daemonSetStatus(o: Obj): HealthResult {
  if (field(o, "metadata.generation") === undefined) return inProgress(`${String(o.kind)} metadata.generation not found`);
  if (field(o, "status.observedGeneration") === undefined) return inProgress(`${String(o.kind)} status.observedGeneration not found`);
  const desired = intField(o, "status.desiredNumberScheduled", -1);
  const cur = intField(o, "status.currentNumberScheduled", 0);
  const updated = intField(o, "status.updatedNumberScheduled", 0);
  const avail = intField(o, "status.numberAvailable", 0);
  const ready = intField(o, "status.numberReady", 0);
  if (desired === -1) return inProgress("Missing .status.desiredNumberScheduled");
  if (desired > cur) return inProgress(`Current: ${cur}/${desired}`);
  if (desired > updated) return inProgress(`Updated: ${updated}/${desired}`);
  if (desired > avail) return inProgress(`Available: ${avail}/${desired}`);
  if (desired > ready) return inProgress(`Ready: ${ready}/${desired}`);
  return current(`All replicas scheduled as expected. Replicas: ${desired}`);
}

function podStatus(o: Obj): HealthResult {
  const phase = String(field(o, "status.phase") ?? "");
  const conds = conditionsOf(o);
  switch (phase) {
    case "Succeeded": return current("Pod has completed successfully");
    case "Failed": return current("Pod has completed, but not successfully");
    case "Running": {
      if (hasCond(conds, "Ready", "True")) return current("Pod is Ready");
      const statuses = field(o, "status.containerStatuses");
      const looping = (Array.isArray(statuses) ? statuses : [])
        .filter((s) => field(s, "state.waiting.reason") === "CrashLoopBackOff").map((s) => String(field(s, "name")));
      if (looping.length) return failed(`Containers in CrashLoop state: ${looping.join(",")}`);
      return inProgress("Pod is running but is not Ready");
    }
    case "Pending": {
      const unschedulable = conds.find((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable");
      if (unschedulable) {
        const created = Date.parse(String(field(o, "metadata.creationTimestamp") ?? ""));
        return Date.now() - created < 15_000 ? inProgress("Pod has not been scheduled") : failed("Pod could not be scheduled");
      }
      return inProgress("Pod is in the Pending phase");
    }
    default:
      return inProgress(phase ? `unknown phase ${phase}` : "Pod phase not available");
  }
}

function jobStatus(o: Obj): HealthResult {
  const parallelism = intField(o, "spec.parallelism", 1);
  const completions = intField(o, "spec.completions", parallelism);
  const succeeded = intField(o, "status.succeeded", 0);
  const active = intField(o, "status.active", 0);
  const failedCount = intField(o, "status.failed", 0);
  const conds = conditionsOf(o);
  if (hasCond(conds, "Complete", "True")) return current(`Job Completed. succeeded: ${succeeded}/${completions}`);
  if (hasCond(conds, "Failed", "True")) return failed(`Job Failed. failed: ${failedCount}/${completions}`);
  if (!field(o, "status.startTime")) return inProgress("Job not started");
  return inProgress(`Job in progress. success:${succeeded}, active: ${active}, failed: ${failedCount}`);
}

function serviceStatus(o: Obj): HealthResult {
  if (field(o, "spec.type") === "LoadBalancer" && !field(o, "spec.clusterIP")) return inProgress("ClusterIP not set. Service type: LoadBalancer");
  return current("Service is ready");
}

function crdStatus(o: Obj): HealthResult {
  for (const c of conditionsOf(o)) {
    if (c.type === "NamesAccepted" && c.status === "False") return failed(c.message ?? "");
    if (c.type === "Established") {
      if (c.status === "False" && c.reason !== "Installing") return failed(c.message ?? "");
      if (c.status === "True") return current("CRD is established");
    }
  }
  return inProgress("Install in progress");
}
