// Shared setup of the kustomize integration tests: our CRDs on the test cluster, the source
// and kustomize controllers in-process (one Manager, metrics/health on 127.0.0.1:0, artifact
// storage in a temp dir), git repositories served over file://, and small helpers to create
// and wait on Kustomizations. Extra controller instances (other flags) watch only objects
// labelled `gitops-test/instance=<name>`; the shared one ignores those.
import type * as k8s from "@kubernetes/client-node";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import type { Kustomization, KustomizationSpec } from "../../../controllers/api/kustomize/v1/kustomization";
import { KustomizeControllerOptions, startKustomizeController } from "../../../controllers/kustomize/setup";
import { kustomizations } from "../../../controllers/kustomize/dependencies";
import { HealthStatus, computeStatus } from "../../../controllers/runtime/health";
import { KubeClient, ResourceRef } from "../../../controllers/runtime/kube";
import { createLogger } from "../../../controllers/runtime/logger";
import { Manager } from "../../../controllers/runtime/manager";
import { startSourceController } from "../../../controllers/source/setup";
import { gitRepositories } from "../../../controllers/source/git/gitrepository-reconciler";
import { tool } from "../../../cli/tools";
import { eventually, getCluster } from "../../support/cluster";
import { GitFixture, startGitServers } from "../../support/git-server";
import { onTeardown } from "../../support/teardown";
import { INSTANCE_LABEL, installCrds } from "../../support/controllers";

export { kustomizations, gitRepositories, INSTANCE_LABEL, installCrds };

export interface Env {
  kc: k8s.KubeConfig;
  client: KubeClient;
  kubeconfigPath: string;
  manager: Manager;
}

let shared: Promise<Env> | undefined;


export interface StartOptions {
  /** Watch only objects with `gitops-test/instance=<instance>`. */
  instance?: string;
  kustomize?: Partial<KustomizeControllerOptions>;
  withSource?: boolean;
  /** Another cluster than the shared test cluster (its CRDs installed by the caller). */
  cluster?: { kc: k8s.KubeConfig; kubeconfigPath: string };
}

/** Starts a manager with the source and kustomize controllers; stopped at teardown. */
export async function startControllers(o: StartOptions = {}): Promise<Env> {
  if (!o.cluster) await installCrds();
  const { kc, kubeconfigPath } = o.cluster ?? await getCluster();
  const selector = o.instance ? `${INSTANCE_LABEL}=${o.instance}` : `!${INSTANCE_LABEL}`;
  const manager = new Manager({
    name: `test-${o.instance ?? "shared"}`, kubeConfig: kc, handleSignals: false,
    logger: createLogger({ level: process.env.GITOPS_TEST_LOG_LEVEL ?? process.env.GITOPS_TEST_LOG ?? "silent" }),
    flags: { metricsAddr: "127.0.0.1:0", healthAddr: "127.0.0.1:0", concurrent: 4, kubeApiQps: 0, watchLabelSelector: selector, gracefulShutdownTimeoutMs: 5000 },
  });
  const closers: Array<() => Promise<void>> = [];
  if (o.withSource ?? true) {
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-kz-storage-"));
    const source = await startSourceController({ storagePath: storage, storageAddr: "127.0.0.1:0", artifactRetentionRecords: 2 });
    for (const d of source.definitions) manager.add(d);
    closers.push(async () => { await source.close(); fs.rmSync(storage, { recursive: true, force: true }); });
  }
  const kz = startKustomizeController({
    kubeConfig: kc, client: manager.client, logger: manager.log, kubeApiQps: 0, kubeApiBurst: 0,
    kustomizePath: tool("kustomize"), sopsPath: hasBin("sops") ? tool("sops") : "sops", requeueDependencyMs: 2000,
    ...o.kustomize,
  });
  for (const d of kz.definitions) manager.add(d);
  closers.push(kz.close);
  await manager.start();
  const env: Env = { kc, client: manager.client, kubeconfigPath, manager };
  onTeardown(async () => {
    await manager.stop();
    for (const c of closers) await c();
  });
  return env;
}

/** The shared controllers (started once per run). */
export function sharedControllers(): Promise<Env> {
  shared ??= startControllers();
  return shared;
}

export function hasBin(name: string): boolean {
  try { tool(name); return true; } catch { return false; }
}

/** A git repository served over smart HTTP with `files` on main, and a GitRepository pointing at it. */
export async function gitSource(client: KubeClient, ns: string, files: Record<string, string>, name = "repo", labels: Record<string, string> = {}): Promise<{ fixture: GitFixture; name: string; commit: string }> {
  const servers = await startGitServers({ files, http: {} });
  onTeardown(() => servers.close());
  await client.create(gitRepositories, {
    apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository",
    metadata: { name, namespace: ns, labels },
    spec: { interval: "1m", url: servers.urls.http!, ref: { branch: "main" } },
  } as never);
  return { fixture: servers.fixture, name, commit: servers.initialCommit };
}

export async function createKustomization(client: KubeClient, ns: string, name: string, spec: Partial<KustomizationSpec>, labels: Record<string, string> = {}): Promise<void> {
  await client.create(kustomizations, {
    apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization",
    metadata: { name, namespace: ns, labels },
    spec: { interval: "10m", prune: true, sourceRef: { kind: "GitRepository", name: "repo" }, ...spec },
  } as never);
}

export async function getKustomization(client: KubeClient, ns: string, name: string): Promise<Kustomization> {
  const k = await client.get<Kustomization>(kustomizations, { namespace: ns, name });
  if (!k) throw new Error(`Kustomization ${ns}/${name} not found`);
  return k;
}

export const readyCondition = (k: Kustomization) => k.status?.conditions?.find((c) => c.type === "Ready");

/** Waits until Ready has `status` at the current generation (and `revision` applied, when given). */
export async function waitForReady(client: KubeClient, ns: string, name: string, o: { status?: "True" | "False"; revisionSha?: string; timeoutMs?: number; reason?: string; message?: RegExp } = {}): Promise<Kustomization> {
  const want = o.status ?? "True";
  return eventually(async () => {
    const k = await getKustomization(client, ns, name);
    const ready = readyCondition(k);
    if (ready?.status !== want || ready.observedGeneration !== k.metadata.generation) return undefined;
    if (o.reason && ready.reason !== o.reason) return undefined;
    if (o.message && !o.message.test(ready.message)) return undefined;
    if (o.revisionSha && !(want === "True" ? k.status?.lastAppliedRevision : k.status?.lastAttemptedRevision)?.endsWith(o.revisionSha)) return undefined;
    return k;
  }, { timeoutMs: o.timeoutMs ?? 60_000, what: `Kustomization ${ns}/${name} Ready=${want}${o.revisionSha ? ` at ${o.revisionSha.slice(0, 7)}` : ""}` });
}

/** Asserts kstatus sees the object as Current (the closing check of integration tests). */
export function expectCurrent(obj: unknown): void {
  const r = computeStatus(obj as Record<string, unknown>);
  expect(r.status, r.message).to.equal(HealthStatus.Current);
}

export const core = {
  configMaps: { group: "", version: "v1", plural: "configmaps", kind: "ConfigMap" } as ResourceRef,
  secrets: { group: "", version: "v1", plural: "secrets", kind: "Secret" } as ResourceRef,
  serviceAccounts: { group: "", version: "v1", plural: "serviceaccounts", kind: "ServiceAccount" } as ResourceRef,
  namespaces: { group: "", version: "v1", plural: "namespaces", kind: "Namespace", namespaced: false } as ResourceRef,
  events: { group: "", version: "v1", plural: "events", kind: "Event" } as ResourceRef,
  deployments: { group: "apps", version: "v1", plural: "deployments", kind: "Deployment" } as ResourceRef,
  services: { group: "", version: "v1", plural: "services", kind: "Service" } as ResourceRef,
};

/** A ConfigMap manifest. */
export function configMap(name: string, data: Record<string, string>, extra = ""): string {
  const body = Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join("\n");
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n${body}\n`;
}

/**
 * A Deployment manifest (pods labelled app=<name>). `containers` is the container list and
 * `podSpec` extra pod-spec fields, as YAML lines indented for their place in the template.
 */
export function deploymentYaml(name: string, o: { replicas?: number; containers?: string; podSpec?: string } = {}): string {
  const containers = o.containers ?? "        - name: app\n          image: nginx:1.27\n";
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${o.replicas ?? 1}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
${o.podSpec ?? ""}      containers:
${containers}`;
}

/** Requests a reconcile as `flux reconcile` does. */
export async function requestReconcile(client: KubeClient, res: ResourceRef, ns: string, name: string): Promise<string> {
  const at = new Date().toISOString();
  await client.patch(res, { namespace: ns, name }, { metadata: { annotations: { "reconcile.fluxcd.io/requestedAt": at } } });
  return at;
}

/** A namespaced custom resource kind with a status subresource and any fields: `<kind>` of `<group>/v1`. */
export function schemalessCrd(group: string, kind: string): { yaml: string; res: ResourceRef } {
  const plural = `${kind.toLowerCase()}s`;
  const yaml = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ${plural}.${group}
spec:
  group: ${group}
  scope: Namespaced
  names: { kind: ${kind}, plural: ${plural}, singular: ${kind.toLowerCase()}, listKind: ${kind}List }
  versions:
    - name: v1
      served: true
      storage: true
      subresources: { status: {} }
      schema:
        openAPIV3Schema:
          type: object
          x-kubernetes-preserve-unknown-fields: true
`;
  return { yaml, res: { group, version: "v1", plural, kind } };
}
