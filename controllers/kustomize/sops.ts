// SOPS decryption of manifests with the real `sops` binary and age keys taken from the
// Secret in spec.decryption.secretRef (data keys ending in `.agekey`). Whole objects carrying
// a top-level `sops` block are decrypted. The MAC is not checked, as in Flux: kustomize adds
// fields (namespace, labels) the MAC did not cover.
import { execFile } from "node:child_process";
import * as os from "node:os";
import type { Decryption } from "../api/kustomize/v1/kustomization";
import { KustomizePolicyAnnotation } from "../api/meta";
import { KubeClient } from "../runtime/kube";
import { KubeObject } from "../runtime/keys";
import { apiMessage } from "../runtime/ssa";

const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

export class DecryptionError extends Error {
  override readonly name = "DecryptionError";
}

export interface DecryptionKeys { age: string[] }

/** Whether an object is SOPS-encrypted (has a top-level `sops` map). */
export function isEncrypted(obj: Record<string, unknown>): boolean {
  const s = obj.sops;
  return typeof s === "object" && s !== null && !Array.isArray(s);
}

export function decryptionDisabled(obj: KubeObject): boolean {
  return obj.metadata?.annotations?.[KustomizePolicyAnnotation.Decrypt]?.toLowerCase() === "disabled";
}

export async function loadKeys(client: KubeClient, namespace: string, d: Decryption, signal?: AbortSignal): Promise<DecryptionKeys> {
  const keys: DecryptionKeys = { age: [] };
  if (!d.secretRef?.name) return keys;
  let secret: (KubeObject & { data?: Record<string, string> }) | undefined;
  try {
    secret = await client.get(secrets, { namespace, name: d.secretRef.name }, { signal });
  } catch (e) {
    throw new DecryptionError(`cannot get decryption Secret '${namespace}/${d.secretRef.name}': ${apiMessage(e)}`, { cause: e });
  }
  if (!secret) throw new DecryptionError(`cannot get decryption Secret '${namespace}/${d.secretRef.name}': secrets "${d.secretRef.name}" not found`);
  for (const [name, value] of Object.entries(secret.data ?? {})) {
    if (name.endsWith(".agekey")) keys.age.push(Buffer.from(value, "base64").toString("utf8").trim());
  }
  return keys;
}

/** Decrypts one object with `sops decrypt`; the object is passed and returned as JSON. */
export function decryptObject(sops: string, obj: Record<string, unknown>, keys: DecryptionKeys, timeoutMs: number): Promise<Record<string, unknown>> {
  const env = { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), SOPS_AGE_KEY: keys.age.join("\n"), SOPS_AGE_KEY_FILE: "/dev/null" };
  return new Promise((resolve, reject) => {
    const child = execFile(sops, ["decrypt", "--input-type", "json", "--output-type", "json", "--ignore-mac"],
      { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException;
          const msg = e.code === "ENOENT" ? `sops binary not found at ${sops}` : (stderr.toString().trim() || e.message);
          return reject(new DecryptionError(msg));
        }
        try { resolve(JSON.parse(stdout) as Record<string, unknown>); } catch (p) { reject(new DecryptionError(`sops returned invalid JSON: ${(p as Error).message}`)); }
      });
    child.stdin?.end(JSON.stringify(obj));
  });
}
