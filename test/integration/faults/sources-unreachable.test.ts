// Fault: the git server, the Helm repository and the OCI registry go away (their loopback
// servers stopped). The source turns Ready=False with the real error, its last good artifact
// stays in status and is still served (same bytes, same digest), the Kustomization built from
// it keeps every object it applied (nothing pruned); when the server returns, the source and
// its consumer converge on their own (no reconcile requested) within two intervals.
import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Kustomization } from "../../../controllers/api/kustomize/v1/kustomization";
import { helmCharts } from "../../../controllers/source/helm/helmchart-reconciler";
import { helmRepositories } from "../../../controllers/source/helm/helmrepository-reconciler";
import { ociRepositories } from "../../../controllers/source/oci/ocirepository-reconciler";
import { eventually, newNamespace, randomSuffix } from "../../support/cluster";
import { startGitServers } from "../../support/git-server";
import { HelmRepoServer } from "../../support/helm-repo";
import { OciRegistry, conditionOf, waitForSource } from "../../support/oci-registry";
import { onTeardown } from "../../support/teardown";
import { Env, INSTANCE_LABEL, configMap, core, createKustomization, getKustomization, gitRepositories, kustomizations, requestReconcile, startControllers, waitForReady } from "../kustomize/support";
import { report } from "./support";

type Res = { group: string; version: string; plural: string; kind: string };
type Source = { metadata: { generation?: number; name?: string }; status?: { artifact?: { url: string; digest: string; revision: string }; conditions?: Array<{ type: string; status: string; reason: string; message: string }> } };
const INTERVAL_MS = 10_000;

async function expectServed(artifact: { url: string; digest: string }): Promise<void> {
  const res = await fetch(artifact.url);
  expect(res.status, `GET ${artifact.url}`).to.equal(200);
  const body = Buffer.from(await res.arrayBuffer());
  expect(`sha256:${createHash("sha256").update(body).digest("hex")}`, "the served artifact is the last good one").to.equal(artifact.digest);
}

function contentDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-faults-oci-"));
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), body);
  }
  onTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe("faults: git server, Helm repository and OCI registry unreachable", function () {
  this.timeout(180_000);
  let env: Env;
  let labels: Record<string, string>;
  before(async () => {
    const instance = `faults-src-${randomSuffix()}`;
    labels = { [INSTANCE_LABEL]: instance };
    env = await startControllers({ instance });
  });

  const create = (res: Res, ns: string, name: string, spec: Record<string, unknown>) => env.client.create(res, {
    apiVersion: `${res.group}/${res.version}`, kind: res.kind, metadata: { name, namespace: ns, labels }, spec: { interval: `${INTERVAL_MS / 1000}s`, ...spec },
  } as never);

  /**
   * While `stop()`ed: `res/name` Ready=False matching `error`, its artifact unchanged and served,
   * and (with a Kustomization `app` on it) the applied ConfigMap kept through a reconcile of the
   * Kustomization. Then `start()`, and the time until the source (and `app`) are Ready again.
   */
  async function outage(o: { ns: string; res: Res; name: string; error: RegExp; reason: string; stop: () => Promise<void>; start: () => Promise<void>; consumer?: boolean }): Promise<Record<string, unknown>> {
    const before = await waitForSource<Source>(env.client, o.res, o.ns, o.name, { ready: "True" }, 60_000);
    const artifact = before.status!.artifact!;
    const kBefore = o.consumer ? await waitForReady(env.client, o.ns, "app") : undefined;
    await o.stop();
    const tDown = Date.now();
    const down = await waitForSource<Source>(env.client, o.res, o.ns, o.name, { ready: "False", reason: o.reason, message: o.error }, 3 * INTERVAL_MS);
    const detectMs = Date.now() - tDown;
    expect(down.status!.artifact, "the last good artifact stays in status").to.deep.equal(artifact);
    await expectServed(artifact);
    if (kBefore) {
      const at = await requestReconcile(env.client, kustomizations, o.ns, "app");
      const k = await eventually(async () => { const k = await getKustomization(env.client, o.ns, "app"); return k.status?.lastHandledReconcileAt === at && k; },
        { timeoutMs: 30_000, what: "the Kustomization reconciled while its source is down" }) as Kustomization;
      expect(k.status?.inventory, "nothing pruned").to.deep.equal(kBefore.status?.inventory);
      expect(await env.client.get(core.configMaps, { namespace: o.ns, name: "app-cm" }), "the applied object stays").to.not.equal(undefined);
    }
    await o.start();
    const tUp = Date.now();
    await waitForSource(env.client, o.res, o.ns, o.name, { ready: "True" }, 2 * INTERVAL_MS + 10_000);
    const recoverMs = Date.now() - tUp;
    if (kBefore) await waitForReady(env.client, o.ns, "app", { timeoutMs: 2 * INTERVAL_MS });
    expect(recoverMs, "recovered within two intervals").to.be.below(2 * INTERVAL_MS);
    return { detectMs, recoverMs, error: conditionOf(down, "Ready")!.message, lost: 0 };
  }

  it("git server stopped: GitRepository Ready=False (GitOperationFailed), artifact kept and served, nothing pruned, recovers", async () => {
    const ns = await newNamespace("faults-git");
    const git = await startGitServers({ files: { "app/cm.yaml": configMap("app-cm", { v: "1" }) }, http: {} });
    onTeardown(() => git.close());
    await create(gitRepositories, ns, "repo", { url: git.urls.http!, ref: { branch: "main" } });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "10s", retryInterval: "5s" }, labels);
    const figures = await outage({ ns, res: gitRepositories, name: "repo", reason: "GitOperationFailed", error: /Couldn't connect to server|connection refused/, consumer: true,
      stop: () => git.http!.stop(), start: () => git.http!.start() });
    report("git server unreachable", figures);
  });

  it("Helm repository stopped: HelmRepository Ready=False, index and chart artifacts kept and served, recovers", async () => {
    const ns = await newNamespace("faults-helm");
    const repo = await HelmRepoServer.start();
    await repo.addChart("app", "1.0.0");
    await create(helmRepositories, ns, "charts", { url: repo.url });
    await create(helmCharts, ns, "app", { chart: "app", version: "1.0.0", sourceRef: { kind: "HelmRepository", name: "charts" } });
    const chart = (await waitForSource<Source>(env.client, helmCharts, ns, "app", { ready: "True" }, 60_000)).status!.artifact!;
    const figures = await outage({ ns, res: helmRepositories, name: "charts", reason: "Failed", error: /connection refused/,
      stop: async () => {
        await repo.stop();
        // The chart is re-resolved against the (unreachable) index too; its artifact stays.
        await requestReconcile(env.client, helmCharts, ns, "app");
      },
      start: () => repo.start() });
    const c = await env.client.get<Source>(helmCharts, { namespace: ns, name: "app" });
    expect(c!.status!.artifact).to.deep.equal(chart);
    await expectServed(chart);
    report("Helm repository unreachable", figures);
  });

  it("OCI registry stopped: OCIRepository Ready=False, artifact kept and served, nothing pruned, recovers", async () => {
    const ns = await newNamespace("faults-oci");
    const reg = await OciRegistry.start();
    await reg.push("app:v1", contentDir({ "app/cm.yaml": configMap("app-cm", { v: "1" }) }));
    await create(ociRepositories, ns, "repo", { url: reg.url("app"), insecure: true, ref: { tag: "v1" } });
    await createKustomization(env.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "10s", retryInterval: "5s", sourceRef: { kind: "OCIRepository", name: "repo" } }, labels);
    const figures = await outage({ ns, res: ociRepositories, name: "repo", reason: "OCIArtifactPullFailed", error: /connection refused/, consumer: true,
      stop: () => reg.stop(), start: () => reg.start() });
    report("OCI registry unreachable", figures);
  });
});
