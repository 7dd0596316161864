import { expect } from "chai";
import {
  Action, changeSetEntry, compareObjMetadata, formatChangeSet, inventoryDiff, inventoryFromChangeSet, inventoryId, inventoryRefs, parseInventoryId,
} from "../../../controllers/runtime/ssa";

const id = (kind: string, name: string, namespace = "apps", group = "") => ({ group, kind, name, namespace });

describe("runtime/ssa: inventory and ordering", function () {
  it("formats ids as Flux does, transcoding colons in RBAC names", () => {
    expect(inventoryId(id("Deployment", "podinfo", "default", "apps"))).to.equal("default_podinfo_apps_Deployment");
    expect(inventoryId(id("ClusterRole", "system:viewer", "", "rbac.authorization.k8s.io"))).to.equal("_system__viewer_rbac.authorization.k8s.io_ClusterRole");
    expect(parseInventoryId("_system__viewer_rbac.authorization.k8s.io_ClusterRole")).to.deep.equal(id("ClusterRole", "system:viewer", "", "rbac.authorization.k8s.io"));
    expect(parseInventoryId("ns_my_name_with_underscores__ConfigMap")).to.deep.equal(id("ConfigMap", "my_name_with_underscores", "ns"));
  });

  it("builds an inventory from a change set and diffs it for prune, in reverse-safe order", () => {
    const before = inventoryFromChangeSet([
      changeSetEntry(id("Namespace", "apps", ""), "v1", Action.Created),
      changeSetEntry(id("ConfigMap", "a"), "v1", Action.Created),
      changeSetEntry(id("Deployment", "web", "apps", "apps"), "apps/v1", Action.Created),
    ]);
    expect(before.entries).to.deep.include({ id: "apps_web_apps_Deployment", v: "v1" });
    const after = inventoryFromChangeSet([changeSetEntry(id("ConfigMap", "a"), "v1", Action.Unchanged)]);
    const stale = inventoryDiff(before, after);
    expect(stale.map((r) => r.kind)).to.deep.equal(["Namespace", "Deployment"]);
    expect(stale[1].apiVersion).to.equal("apps/v1");
    expect(inventoryRefs(before).map((r) => r.kind)).to.deep.equal(["Namespace", "ConfigMap", "Deployment"]);
  });

  it("orders CRDs and Namespaces first and webhooks last", () => {
    const kinds = ["ValidatingWebhookConfiguration", "Widget", "Deployment", "Namespace", "CustomResourceDefinition", "ConfigMap"];
    const sorted = kinds.map((k) => id(k, "x")).sort(compareObjMetadata).map((i) => i.kind);
    expect(sorted).to.deep.equal(["CustomResourceDefinition", "Namespace", "ConfigMap", "Deployment", "Widget", "ValidatingWebhookConfiguration"]);
  });

  it("prints change sets as `Kind/namespace/name action` lines", () => {
    const cs = [changeSetEntry(id("ConfigMap", "a"), "v1", Action.Created), changeSetEntry(id("ConfigMap", "b"), "v1", Action.Unchanged)];
    expect(formatChangeSet(cs)).to.equal("ConfigMap/apps/a created\nConfigMap/apps/b unchanged");
    expect(formatChangeSet(cs, true)).to.equal("ConfigMap/apps/a created");
  });
});
