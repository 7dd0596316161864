import { expect } from "chai";
import { EventRecorder, KubeClient, KubeObject, ResourceRef, coreEvents } from "../../../controllers/runtime";
import { getCluster, newNamespace } from "../../support/cluster";

const configMaps: ResourceRef = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
type CoreEvent = KubeObject & {
  involvedObject: { kind: string; name: string; uid: string }; reason: string; message: string; type: string; count: number;
  source: { component: string }; reportingComponent: string;
};

describe("runtime EventRecorder: core v1 Events", function () {
  let client: KubeClient;
  before(async function () {
    this.timeout(120000);
    client = KubeClient.fromKubeConfig((await getCluster()).kc, { qps: 0 });
  });

  it("records an event about an object and folds identical repeats into its count", async function () {
    const ns = await newNamespace("ev");
    const obj = await client.create<KubeObject>(configMaps, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "src", namespace: ns } });
    const rec = new EventRecorder(client, { reportingController: "source-controller", reportingInstance: "test-pod" });
    const ann = { "source.toolkit.fluxcd.io/revision": "main@sha1:abc" };
    await Promise.all([1, 2, 3].map(() => rec.normal(obj, "NewArtifact", "stored artifact for revision abc", ann)));
    await rec.warning(obj, "GitOperationFailed", "authentication required");
    const list = await client.list<CoreEvent>(coreEvents, { namespace: ns });
    const byReason = Object.fromEntries(list.items.map((e) => [e.reason, e]));
    expect(list.items).to.have.length(2);
    const e = byReason.NewArtifact;
    expect(e.count).to.equal(3);
    expect(e.type).to.equal("Normal");
    expect(e.involvedObject).to.deep.include({ kind: "ConfigMap", name: "src", uid: obj.metadata?.uid });
    expect(e.metadata?.annotations).to.deep.equal(ann);
    expect(e.source.component).to.equal("source-controller");
    expect(e.reportingComponent).to.equal("source-controller");
    expect(byReason.GitOperationFailed.type).to.equal("Warning");
    expect(byReason.GitOperationFailed.count).to.equal(1);
  });
});
