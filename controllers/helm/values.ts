// The values of a release: spec.valuesFrom (ConfigMaps and Secrets, in order) merged, then
// spec.values over them, as helm-controller's chartutil.ChartValuesFromReferences does.
// Digests: lastAttemptedValuesChecksum (SHA1, deprecated) and configDigest (sha256), both
// over a canonical (key-sorted) JSON form so that equal values give equal digests.
import { createHash } from "node:crypto";
import { parse } from "yaml";
import type { HelmRelease, ValuesReference } from "../api/helm/v2/helm-release";
import { DefaultValuesKey } from "../api/helm/v2/helm-release";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";

type Values = Record<string, unknown>;
const resources = {
  ConfigMap: { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" },
  Secret: { group: "", version: "v1", plural: "secrets", kind: "Secret" },
};

export class ValuesError extends Error {
  override readonly name = "ValuesError";
}

const isMap = (v: unknown): v is Values => typeof v === "object" && v !== null && !Array.isArray(v);

/** Helm's mergeMaps: nested maps merge, anything else is replaced. */
export function mergeValues(a: Values, b: Values): Values {
  const out: Values = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isMap(v) && isMap(out[k]) ? mergeValues(out[k] as Values, v) : v;
  return out;
}

/** Sets `value` at a `--set` style path (`a.b[0].c`, `\.` escapes a dot). */
export function setPath(values: Values, targetPath: string, value: unknown): void {
  const parts: Array<string | number> = [];
  for (const seg of targetPath.split(/(?<!\\)\./)) {
    const m = /^(.*?)((?:\[\d+\])*)$/.exec(seg)!;
    parts.push(m[1].replace(/\\\./g, "."));
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) parts.push(Number(idx[1]));
  }
  let cur: Record<string | number, unknown> = values;
  parts.forEach((p, i) => {
    if (i === parts.length - 1) { cur[p] = value; return; }
    const next = parts[i + 1];
    if (typeof cur[p] !== "object" || cur[p] === null) cur[p] = typeof next === "number" ? [] : {};
    cur = cur[p] as Record<string | number, unknown>;
  });
}

async function fromReference(hr: HelmRelease, ref: ValuesReference, client: KubeClient, signal?: AbortSignal): Promise<Values | undefined> {
  const ns = hr.metadata.namespace!;
  const obj = await client.get<KubeObject & { data?: Record<string, string> }>(resources[ref.kind], { namespace: ns, name: ref.name }, { signal });
  const key = ref.valuesKey || DefaultValuesKey;
  if (!obj) {
    if (ref.optional) return undefined;
    throw new ValuesError(`could not find ${ref.kind} '${ns}/${ref.name}'`);
  }
  const raw = obj.data?.[key];
  if (raw === undefined) {
    if (ref.optional) return undefined;
    throw new ValuesError(`missing key '${key}' in ${ref.kind} '${ns}/${ref.name}'`);
  }
  const text = ref.kind === "Secret" ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (ref.targetPath) {
    const out: Values = {};
    setPath(out, ref.targetPath, ref.literal ? text : parseScalar(text));
    return out;
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (e) {
    throw new ValuesError(`unable to read values from key '${key}' in ${ref.kind} '${ns}/${ref.name}': ${(e as Error).message}`, { cause: e });
  }
  if (parsed == null) return {};
  if (!isMap(parsed)) throw new ValuesError(`values in key '${key}' of ${ref.kind} '${ns}/${ref.name}' are not a map`);
  return parsed;
}

/** `--set` typing: integers, booleans and null become typed; anything else stays a string. */
function parseScalar(s: string): unknown {
  if (/^-?\d+$/.test(s)) return Number(s);
  if (s === "true" || s === "false") return s === "true";
  if (s === "null") return null;
  return s;
}

export async function composeValues(hr: HelmRelease, client: KubeClient, signal?: AbortSignal): Promise<Values> {
  let out: Values = {};
  for (const ref of hr.spec.valuesFrom ?? []) {
    const v = await fromReference(hr, ref, client, signal);
    if (v) out = mergeValues(out, v);
  }
  return mergeValues(out, hr.spec.values ?? {});
}

/** JSON with sorted keys: the form digests are computed over. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isMap(v)) return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  return JSON.stringify(v ?? null);
}

export const configDigest = (v: Values): string => `sha256:${createHash("sha256").update(canonicalJson(v)).digest("hex")}`;
export const valuesChecksum = (v: Values): string => createHash("sha1").update(canonicalJson(v)).digest("hex");
