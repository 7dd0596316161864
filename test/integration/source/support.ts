// Shared helpers for GitRepository tests: create objects and wait for their conditions.
import { GitRepository, GitRepositoryNames } from "../../../controllers/api/source/v1/git-repository";
import { KubeClient } from "../../../controllers/runtime/kube";
import { eventually } from "../../support/cluster";

export const gitRepos = { group: GitRepositoryNames.group, version: GitRepositoryNames.version, plural: GitRepositoryNames.plural, kind: GitRepositoryNames.kind };
export const secrets = { group: "", version: "v1", plural: "secrets", kind: "Secret" };

/** Creates a GitRepository labelled for the given test controllers. */
export async function createGitRepository(ctl: { client: KubeClient; labels: Record<string, string> }, namespace: string, name: string,
  spec: Partial<GitRepository["spec"]>): Promise<GitRepository> {
  return ctl.client.create(gitRepos, {
    apiVersion: GitRepositoryNames.apiVersion, kind: GitRepositoryNames.kind,
    metadata: { name, namespace, labels: ctl.labels }, spec: { interval: "1m", ...spec },
  } as GitRepository);
}

export async function createSecret(client: KubeClient, namespace: string, name: string, stringData: Record<string, string>): Promise<void> {
  await client.create(secrets, { apiVersion: "v1", kind: "Secret", metadata: { name, namespace }, stringData } as never);
}

export function condition(obj: GitRepository | undefined, type: string) {
  return obj?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until Ready has `status` (and, optionally, the artifact has `revision`). */
export function waitFor(client: KubeClient, namespace: string, name: string,
  want: { ready: "True" | "False"; revision?: string | RegExp; reason?: string; message?: RegExp }, timeoutMs = 30000): Promise<GitRepository> {
  let last: GitRepository | undefined;
  return eventually(async () => {
    last = await client.get<GitRepository>(gitRepos, { namespace, name });
    const ready = condition(last, "Ready");
    if (ready?.status !== want.ready) return undefined;
    if (want.reason && ready.reason !== want.reason) return undefined;
    if (want.message && !want.message.test(ready.message ?? "")) return undefined;
    const rev = last?.status?.artifact?.revision ?? "";
    if (want.revision && !(typeof want.revision === "string" ? rev === want.revision : want.revision.test(rev))) return undefined;
    return last;
  }, { timeoutMs, what: `GitRepository ${namespace}/${name} Ready=${want.ready}${want.revision ? ` at ${want.revision}` : ""}` })
    .catch((e) => { throw new Error(`${(e as Error).message}; last conditions: ${JSON.stringify(last?.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}`); });
}
