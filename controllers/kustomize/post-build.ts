// Post-build variable substitution: variables from spec.postBuild.substituteFrom (ConfigMaps
// and Secrets, later ones winning, `optional` ones may be missing) overridden by
// spec.postBuild.substitute, applied to each object's YAML text unless the object opts out
// with `kustomize.toolkit.fluxcd.io/substitute: disabled`.
import type { PostBuild } from "../api/kustomize/v1/kustomization";
import { KustomizePolicyAnnotation } from "../api/meta";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import { apiMessage } from "../runtime/ssa";
import { EnvsubstError, envsubst } from "./envsubst";

const configMaps = { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" };
const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };
const VAR_NAME = /^[_\p{L}][_\p{L}\p{Nd}]*$/u;

export class SubstituteError extends Error {
  override readonly name = "SubstituteError";
}

/** The variables of a Kustomization (newlines removed from values, as Flux does). */
export async function loadVariables(client: KubeClient, namespace: string, postBuild: PostBuild, signal?: AbortSignal): Promise<Record<string, string>> {
  const vars: Record<string, string> = {};
  for (const ref of postBuild.substituteFrom ?? []) {
    const res = ref.kind === "Secret" ? secrets : configMaps;
    let obj: (KubeObject & { data?: Record<string, string> }) | undefined;
    try {
      obj = await client.get(res, { namespace, name: ref.name }, { signal });
    } catch (e) {
      throw new SubstituteError(`substitute from '${ref.kind}/${ref.name}' error: ${apiMessage(e)}`, { cause: e });
    }
    if (!obj) {
      if (ref.optional) continue;
      throw new SubstituteError(`substitute from '${ref.kind}/${ref.name}' error: ${res.plural} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      const value = ref.kind === "Secret" ? Buffer.from(v, "base64").toString("utf8") : v;
      vars[k] = value.replaceAll("\n", "");
    }
  }
  for (const [k, v] of Object.entries(postBuild.substitute ?? {})) vars[k] = String(v).replaceAll("\n", "");
  return vars;
}

/** Whether substitution runs on this object at all. */
export function substitutionEnabled(obj: KubeObject): boolean {
  const key = KustomizePolicyAnnotation.Substitute;
  return obj.metadata?.labels?.[key] !== "disabled" && obj.metadata?.annotations?.[key] !== "disabled";
}

/**
 * Substitutes the variables in one document's text. Unset variables become empty strings,
 * or, when `strict`, are an error naming the variable.
 */
export function substitute(text: string, vars: Record<string, string>, strict: boolean): string {
  for (const k of Object.keys(vars)) {
    if (!VAR_NAME.test(k)) throw new SubstituteError(`envsubst error: '${k}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'`);
  }
  try {
    return envsubst(text, (name) => (Object.hasOwn(vars, name) ? [vars[name], true] : ["", !strict]));
  } catch (e) {
    if (e instanceof EnvsubstError) throw new SubstituteError(`envsubst error: variable substitution failed: ${e.message}`, { cause: e });
    throw e;
  }
}
