// A throwaway CRD with a status subresource for the runtime's status, finalizer and
// reconcile-order tests. Installed once per run.
import { Condition, KubeClient, KubeObject, ResourceRef } from "../../../controllers/runtime";
import { eventually, getCluster, randomSuffix } from "../../support/cluster";

export type Widget = KubeObject & {
  spec?: { size?: number; suspend?: boolean };
  status?: { observedGeneration?: number; lastHandledReconcileAt?: string; phase?: string; conditions?: Condition[] };
};

let installed: Promise<{ widgets: ResourceRef & { kind: string }; client: KubeClient }> | undefined;

export function widgetCrd(): Promise<{ widgets: ResourceRef & { kind: string }; client: KubeClient }> {
  installed ??= (async () => {
    const { kc } = await getCluster();
    const group = `rt${randomSuffix()}.example.com`;
    const name = `widgets.${group}`;
    const client = KubeClient.fromKubeConfig(kc, { qps: 0 });
    const crds: ResourceRef = { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false };
    await client.create(crds, {
      apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name },
      spec: {
        group, scope: "Namespaced", names: { kind: "Widget", plural: "widgets", singular: "widget", listKind: "WidgetList" },
        versions: [{
          name: "v1", served: true, storage: true, subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", properties: {
            spec: { type: "object", properties: { size: { type: "integer" }, suspend: { type: "boolean" } } },
            status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
          } } },
        }],
      },
    } as KubeObject);
    await eventually(async () => {
      const crd = await client.get<KubeObject & { status?: { conditions?: Condition[] } }>(crds, { namespace: "", name });
      return crd?.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    }, { what: "Widget CRD established" });
    return { widgets: { group, version: "v1", plural: "widgets", kind: "Widget" }, client };
  })();
  return installed;
}
