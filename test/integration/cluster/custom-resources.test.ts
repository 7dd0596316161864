import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";

describe("embedded cluster: custom resources", function () {
  const group = `t${randomSuffix()}.example.com`;
  const plural = "widgets";
  let kc: k8s.KubeConfig;
  let objects: k8s.KubernetesObjectApi;
  let custom: k8s.CustomObjectsApi;

  before(async function () {
    this.timeout(90000);
    ({ kc } = await getCluster());
    objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const crd = {
      apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group, scope: "Namespaced",
        names: { kind: "Widget", plural, singular: "widget", listKind: "WidgetList" },
        versions: [{
          name: "v1", served: true, storage: true, subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", properties: {
            spec: { type: "object", properties: { size: { type: "integer", minimum: 1 } } },
            status: { type: "object", properties: { observedGeneration: { type: "integer" }, phase: { type: "string" } } },
          } } },
        }],
      },
    };
    await kc.makeApiClient(k8s.ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    await eventually(async () => {
      const got = await kc.makeApiClient(k8s.ApiextensionsV1Api).readCustomResourceDefinition({ name: crd.metadata.name });
      return got.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    }, { what: "CRD Established" });
  });

  it("creates, watches, patches the status subresource of, and deletes a custom resource", async function () {
    const ns = await newNamespace();
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    // A new CRD's watch cache may still be initializing (429): restart the watch until it holds.
    let req: AbortController | undefined;
    let stopped = false;
    const startWatch = async (): Promise<void> => {
      req = await watch.watch(`/apis/${group}/v1/namespaces/${ns}/${plural}`, {},
        (type, obj: k8s.KubernetesObject & { status?: { phase?: string } }) => events.push(`${type}:${obj.metadata?.name}:${obj.status?.phase ?? ""}`),
        (err) => { if (!stopped) setTimeout(() => void startWatch(), err ? 200 : 0); });
    };
    await startWatch();
    await new Promise((r) => setTimeout(r, 500));
    try {
      await custom.createNamespacedCustomObject({ group, version: "v1", namespace: ns, plural,
        body: { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } } });
      await custom.patchNamespacedCustomObjectStatus({ group, version: "v1", namespace: ns, plural, name: "w1",
        body: { status: { phase: "Ready", observedGeneration: 1 } } },
        k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
      const got = await custom.getNamespacedCustomObject({ group, version: "v1", namespace: ns, plural, name: "w1" }) as { status: { phase: string }; spec: { size: number } };
      expect(got.status.phase).to.equal("Ready");
      expect(got.spec.size).to.equal(3);
      await custom.deleteNamespacedCustomObject({ group, version: "v1", namespace: ns, plural, name: "w1" });
      await eventually(() => events.includes("DELETED:w1:Ready"), { what: "DELETED watch event" }).catch((e) => { throw new Error(`${e.message}; events seen: ${events.join(", ")}`); });
      expect(events.slice(0, 2)).to.deep.equal(["ADDED:w1:", "MODIFIED:w1:Ready"]);
    } finally {
      stopped = true;
      req?.abort();
    }
  });

  it("rejects a custom resource that violates the CRD schema", async function () {
    const ns = await newNamespace();
    let error: unknown;
    try {
      await objects.create({ apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "bad", namespace: ns }, spec: { size: 0 } } as k8s.KubernetesObject);
    } catch (e) { error = e; }
    expect(String((error as Error)?.message)).to.match(/spec\.size.*should be greater than or equal to 1/);
  });
});
