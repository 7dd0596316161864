/**
 * Shared setup of the provider tests: the run's embedded cluster (kubeconfig as a string, as a
 * user would pass an output), a git repository served over HTTP(S)/SSH, and readers for what
 * landed in git and in the cluster.
 */
import * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import { Cluster } from "../../../provider/cluster/client";
import { getCluster, randomSuffix } from "../../support/cluster";
import { startGitServers, type GitServers, type GitServersOptions } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";

export async function kubeconfigText(): Promise<string> {
  const c = await getCluster();
  return fs.readFileSync(c.kubeconfigPath, "utf8");
}

export async function objectApi(): Promise<k8s.KubernetesObjectApi> {
  const c = await getCluster();
  return k8s.KubernetesObjectApi.makeApiClient(c.kc);
}

/** The object, or undefined. */
export async function getObject<T = { metadata: { name: string; labels?: Record<string, string> }; spec?: Record<string, unknown>; data?: Record<string, string>; status?: Record<string, unknown> }>(
  apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
  const api = await objectApi();
  try {
    return (await api.read({ apiVersion, kind, metadata: { name, namespace } })) as unknown as T;
  } catch {
    return undefined;
  }
}

/** A GitRepository made outside Pulumi (field manager kubectl), for adoption and import. */
export async function applyGitRepositoryAsKubectl(namespace: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const c = new Cluster({ kubeconfig: (await getCluster()).kubeconfigPath });
  try {
    await c.apply({ apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name, namespace }, spec }, { fieldManager: "kubectl" });
  } finally {
    c.close();
  }
}

export const gitRepoUser = { username: "flux", password: `pw-${randomSuffix(8)}` };

/** A repository with an initial README commit, served as requested; closed at teardown. */
export async function gitRepo(opts: GitServersOptions = {}): Promise<GitServers> {
  const servers = await startGitServers({ http: { basicAuth: gitRepoUser }, ...opts });
  onTeardown(() => servers.close());
  return servers;
}

/** Files at the tip of `branch` in the bare repo (via the fixture's git). */
export async function filesAt(servers: GitServers, paths: string[], branch = "main"): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const p of paths) {
    const r = await servers.fixture.tryGit(["--git-dir", servers.barePath, "cat-file", "blob", `refs/heads/${branch}:${p}`]);
    out[p] = r.code === 0 ? r.stdout : null;
  }
  return out;
}

export async function tipOf(servers: GitServers, branch = "main"): Promise<string | undefined> {
  const r = await servers.fixture.tryGit(["--git-dir", servers.barePath, "rev-parse", "--verify", `refs/heads/${branch}`]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

export async function commitCount(servers: GitServers, branch = "main"): Promise<number> {
  const r = await servers.fixture.tryGit(["--git-dir", servers.barePath, "rev-list", "--count", `refs/heads/${branch}`]);
  return r.code === 0 ? Number(r.stdout.trim()) : 0;
}

export const fluxNamespace = () => `flux-${randomSuffix()}`;

/**
 * A commit on top of the branch as it is in the served repository (a clone, a commit, a normal
 * push), for changes made after a bootstrap pushed (the fixture's own commits force-publish).
 */
export async function editInGit(servers: GitServers, files: Record<string, string | null>, message: string, branch = "main"): Promise<string> {
  const dir = `${servers.fixture.scratchDir("edit")}/c`;
  await servers.fixture.git(["clone", "-q", "--branch", branch, servers.barePath, dir]);
  for (const [p, content] of Object.entries(files)) {
    const f = `${dir}/${p}`;
    if (content === null) fs.rmSync(f, { force: true });
    else {
      fs.mkdirSync(f.slice(0, f.lastIndexOf("/")), { recursive: true });
      fs.writeFileSync(f, content);
    }
  }
  await servers.fixture.git(["add", "-A", "."], { cwd: dir });
  await servers.fixture.git(["commit", "-q", "-m", message], { cwd: dir });
  await servers.fixture.git(["push", "-q", "origin", `HEAD:refs/heads/${branch}`], { cwd: dir });
  return servers.fixture.git(["rev-parse", "HEAD"], { cwd: dir });
}
