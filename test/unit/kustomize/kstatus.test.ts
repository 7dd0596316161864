import { expect } from "chai";
import { computeStatus } from "../../../controllers/runtime/health";

const deploy = (status: Record<string, unknown>, gen = 1) => ({
  apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", generation: gen }, spec: { replicas: 2 }, status: { observedGeneration: 1, ...status },
});

describe("runtime/health: kstatus", function () {
  it("reports a Deployment rollout in progress, available, and past its deadline", () => {
    expect(computeStatus(deploy({ replicas: 2, updatedReplicas: 1 }))).to.deep.equal({ status: "InProgress", message: "Updated: 1/2" });
    expect(computeStatus(deploy({}, 2)).message).to.equal("Deployment generation is 2, but latest observed generation is 1");
    const ok = deploy({ replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: "Available", status: "True" }, { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable" }] });
    expect(computeStatus(ok)).to.deep.equal({ status: "Current", message: "Deployment is available. Replicas: 2" });
    const dead = deploy({ conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }] });
    expect(computeStatus(dead).status).to.equal("Failed");
  });

  it("waits for Jobs to complete and fails failed Jobs", () => {
    const job = (status: Record<string, unknown>) => ({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: {}, status });
    expect(computeStatus(job({ startTime: "x", active: 1 })).status).to.equal("InProgress");
    expect(computeStatus(job({ succeeded: 1, conditions: [{ type: "Complete", status: "True" }] }))).to.deep.equal({ status: "Current", message: "Job Completed. succeeded: 1/1" });
    expect(computeStatus(job({ failed: 1, conditions: [{ type: "Failed", status: "True" }] })).status).to.equal("Failed");
  });

  it("reads Ready, Reconciling and Stalled on custom resources", () => {
    const cr = (conditions: unknown[]) => ({ apiVersion: "x.io/v1", kind: "W", metadata: { name: "w", generation: 1 }, status: { observedGeneration: 1, conditions } });
    expect(computeStatus(cr([{ type: "Ready", status: "True" }])).status).to.equal("Current");
    expect(computeStatus(cr([{ type: "Ready", status: "False", message: "waiting" }]))).to.deep.equal({ status: "InProgress", message: "waiting" });
    expect(computeStatus(cr([{ type: "Stalled", status: "True", message: "bad" }]))).to.deep.equal({ status: "Failed", message: "bad" });
    expect(computeStatus(cr([]))).to.deep.equal({ status: "Current", message: "Resource is current" });
    expect(computeStatus({ ...cr([]), metadata: { name: "w", deletionTimestamp: "now" } }).status).to.equal("Terminating");
  });

  it("knows CRDs, PVCs and Services", () => {
    expect(computeStatus({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: {}, status: { conditions: [{ type: "Established", status: "True" }] } }).status).to.equal("Current");
    expect(computeStatus({ apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: {}, status: { phase: "Pending" } }).message).to.equal("PVC is not Bound. phase: Pending");
    expect(computeStatus({ apiVersion: "v1", kind: "Service", metadata: {}, spec: { type: "ClusterIP" } }).status).to.equal("Current");
  });
});
