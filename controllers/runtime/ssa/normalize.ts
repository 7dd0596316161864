// Normalization of desired objects before apply, for the known cases where what the API
// server stores differs from what was sent, which would otherwise look like drift on every
// reconcile: Secret stringData becomes data, container and Service ports get protocol TCP,
// and creationTimestamp and status (except on CRDs) are dropped.
import { Unstructured } from "./object-id";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function normalizeObject(obj: Unstructured): void {
  const kind = obj.kind;
  const group = obj.apiVersion.includes("/") ? obj.apiVersion.split("/")[0] : "";
  if (obj.metadata && "creationTimestamp" in obj.metadata) delete (obj.metadata as Obj).creationTimestamp;
  if (!(kind === "CustomResourceDefinition" && group === "apiextensions.k8s.io")) delete obj.status;
  if (group === "" && kind === "Secret") normalizeSecret(obj);
  if (group === "" && kind === "Service") defaultProtocols((obj.spec as Obj | undefined)?.ports);
  const podSpec = podSpecOf(obj, group, kind);
  if (podSpec && Array.isArray(podSpec.containers)) {
    for (const c of podSpec.containers) if (isObj(c)) defaultProtocols(c.ports);
  }
}

function normalizeSecret(obj: Obj): void {
  const stringData = obj.stringData;
  if (!isObj(stringData) || Object.keys(stringData).length === 0) {
    delete obj.stringData;
    return;
  }
  const data = isObj(obj.data) ? obj.data : {};
  for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v ?? ""), "utf8").toString("base64");
  obj.data = data;
  delete obj.stringData;
}

function defaultProtocols(ports: unknown): void {
  if (!Array.isArray(ports)) return;
  for (const p of ports) if (isObj(p) && !p.protocol) p.protocol = "TCP";
}

function podSpecOf(obj: Obj, group: string, kind: string): Obj | undefined {
  const spec = obj.spec;
  if (!isObj(spec)) return undefined;
  if (group === "" && kind === "Pod") return spec;
  const template = (s: unknown): Obj | undefined => (isObj(s) && isObj(s.template) && isObj(s.template.spec) ? s.template.spec : undefined);
  if (group === "apps" && ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"].includes(kind)) return template(spec);
  if (group === "batch" && kind === "Job") return template(spec);
  if (group === "batch" && kind === "CronJob") return isObj(spec.jobTemplate) ? template(spec.jobTemplate.spec) : undefined;
  return undefined;
}
