// Object keys: what the queue holds and what a reconcile receives ("namespace/name", or
// "name" for cluster-scoped objects), never the object itself, so every reconcile re-reads.

export interface ObjectKey {
  /** Empty for cluster-scoped objects. */
  readonly namespace: string;
  readonly name: string;
}

/** The minimal shape of a Kubernetes object the runtime needs. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: object[];
}

export function formatKey(key: ObjectKey): string {
  return key.namespace ? `${key.namespace}/${key.name}` : key.name;
}

export function parseKey(s: string): ObjectKey {
  const i = s.indexOf("/");
  return i < 0 ? { namespace: "", name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

export function keyOf(obj: KubeObject): ObjectKey {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`object of kind ${obj.kind ?? "?"} has no metadata.name`);
  return { namespace: obj.metadata?.namespace ?? "", name };
}

/** The queue key string of an object. */
export function objectKeyString(obj: KubeObject): string {
  return formatKey(keyOf(obj));
}
