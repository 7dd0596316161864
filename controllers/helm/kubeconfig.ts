// The kubeconfig helm runs with: the controller's own identity, written for Go's client. In a pod,
// client-node's in-cluster config names the ServiceAccount token through an auth provider called
// "tokenFile" that only client-node knows; Go's kubeconfig spells it `tokenFile` on the user, and
// reading the file on each request keeps the projected token's rotation working.
import type { KubeConfig } from "@kubernetes/client-node";

interface ExportedUser { name: string; user: Record<string, unknown> & { "auth-provider"?: { name?: string; config?: Record<string, string> } } }

export function kubeconfigForHelm(kc: KubeConfig): string {
  const doc = JSON.parse(kc.exportConfig()) as { users?: ExportedUser[] };
  for (const u of doc.users ?? []) {
    const provider = u.user["auth-provider"];
    if (provider?.name === "tokenFile" && provider.config?.tokenFile) {
      delete u.user["auth-provider"];
      u.user.tokenFile = provider.config.tokenFile;
    }
  }
  return JSON.stringify(doc);
}
