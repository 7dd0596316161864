import { expect } from "chai";
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../cli/ports";
import { repoRoot } from "../../../cli/tools";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { installCrds, INSTANCE_LABEL } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { KubeClient } from "../../../controllers/runtime/kube";
import { leaseNameFor } from "../../../controllers/runtime/manager";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { createGitRepository, gitRepos, waitFor } from "./support";

describe("gitops controllers run: the source controller as a local process", function () {
  this.timeout(120000);
  let git: GitServers;
  let proc: ChildProcess | undefined;
  let stderr = "";
  after(async () => { proc?.kill("SIGKILL"); await git?.close(); });

  it("serves artifacts at --storage-adv-addr, exposes health and metrics, holds a Lease, and exits cleanly on SIGTERM", async function () {
    await installCrds();
    const { kc, kubeconfigPath } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    const ns = await newNamespace();
    const instance = `proc-${randomSuffix(6)}`;
    const [storagePort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-proc-storage-"));
    proc = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath, "--only", "source",
      "--storage-path", storage, "--storage-addr", `127.0.0.1:${storagePort}`, "--storage-adv-addr", `localhost:${storagePort}`,
      "--metrics-addr", `127.0.0.1:${metricsPort}`, "--health-addr", `127.0.0.1:${healthPort}`,
      "--concurrent", "2", "--kube-api-qps", "20", "--kube-api-burst", "40", "--log-level", "info",
      "--enable-leader-election", "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`],
    { env: { ...process.env, RUNTIME_NAMESPACE: ns }, stdio: ["ignore", "pipe", "pipe"] });
    proc.stderr!.on("data", (c) => (stderr += c));
    let stdout = "";
    proc.stdout!.on("data", (c) => (stdout += c));

    await eventually(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30000, what: "/readyz" }).catch((e) => { throw new Error(`${e.message}\n${stderr}\n${stdout}`); });
    expect((await fetch(`http://127.0.0.1:${healthPort}/healthz`)).status).to.equal(200);

    await createGitRepository({ client, labels: { [INSTANCE_LABEL]: instance } }, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
    const repo = await waitFor(client, ns, "app", { ready: "True" });
    expect(repo.status!.artifact!.url).to.match(new RegExp(`^http://localhost:${storagePort}/gitrepository/${ns}/app/`));
    expect((await fetch(repo.status!.artifact!.url)).status).to.equal(200);

    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).to.match(/gotk_reconcile_duration_seconds_count\{[^}]*kind="GitRepository"[^}]*\} [1-9]/);
    expect(metrics).to.contain("workqueue_depth");

    const lease = await client.get<{ spec?: { holderIdentity?: string } } & { metadata: object }>(
      { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" }, { namespace: ns, name: leaseNameFor("source-controller", `${INSTANCE_LABEL}=${instance}`) });
    expect(lease?.spec?.holderIdentity, "leader election Lease held").to.be.a("string").and.not.empty;
    expect(stdout).to.match(/"msg":"controllers started"/);

    const exit = new Promise<number | null>((r) => proc!.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    expect(await exit).to.equal(0);
    proc = undefined;
    const released = await client.get<{ spec?: { holderIdentity?: string } } & { metadata: object }>(
      { group: "coordination.k8s.io", version: "v1", plural: "leases", kind: "Lease" }, { namespace: ns, name: leaseNameFor("source-controller", `${INSTANCE_LABEL}=${instance}`) });
    expect(released?.spec?.holderIdentity ?? "", "lease released on shutdown").to.equal("");
  });

  it("with --watch-all-namespaces=false reconciles only objects in its runtime namespace", async function () {
    await installCrds();
    const { kc, kubeconfigPath } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    git ??= await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    const [inside, outside] = [await newNamespace(), await newNamespace()];
    const instance = `proc-${randomSuffix(6)}`;
    const [storagePort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-proc-storage-"));
    let out = "";
    proc = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath, "--only", "source",
      "--storage-path", storage, "--storage-addr", `127.0.0.1:${storagePort}`, "--storage-adv-addr", `127.0.0.1:${storagePort}`,
      "--metrics-addr", `127.0.0.1:${metricsPort}`, "--health-addr", `127.0.0.1:${healthPort}`, "--log-level", "info",
      "--watch-all-namespaces=false", "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`],
    { env: { ...process.env, RUNTIME_NAMESPACE: inside }, stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (c) => (out += c));
    proc.stderr!.on("data", (c) => (out += c));
    await eventually(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30000, what: "/readyz" }).catch((e) => { throw new Error(`${e.message}\n${out}`); });
    const ctl = { client, labels: { [INSTANCE_LABEL]: instance } };
    await createGitRepository(ctl, outside, "app", { url: git.http!.url(), ref: { branch: "main" } });
    await createGitRepository(ctl, inside, "app", { url: git.http!.url(), ref: { branch: "main" } });
    const ready = await waitFor(client, inside, "app", { ready: "True" });
    expect(ready.metadata.finalizers).to.include("finalizers.fluxcd.io");
    await new Promise((r) => setTimeout(r, 3000)); // the outside one was created first: time enough for a watcher
    const other = await client.get<GitRepository>(gitRepos, { namespace: outside, name: "app" });
    // Nothing but the CRD's default status (observedGeneration -1) for an object outside the runtime namespace.
    expect(other!.status?.conditions ?? [], "no conditions outside the runtime namespace").to.deep.equal([]);
    expect(other!.status?.artifact).to.equal(undefined);
    expect(other!.status?.observedGeneration ?? -1).to.equal(-1);
    expect(other!.metadata.finalizers ?? [], "no finalizer either").to.deep.equal([]);
    const exit = new Promise<number | null>((r) => proc!.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    expect(await exit).to.equal(0);
    proc = undefined;
  });

  it("rejects unknown flags and controllers with a usage message", async function () {
    const run = (args: string[]) => new Promise<{ code: number | null; err: string }>((resolve) => {
      const p = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", ...args], { stdio: ["ignore", "ignore", "pipe"] });
      let err = "";
      p.stderr!.on("data", (c) => (err += c));
      p.on("exit", (code) => resolve({ code, err }));
    });
    const a = await run(["--kubeconfig", "/nonexistent", "--only", "source,nope"]);
    expect(a.code).to.equal(2);
    expect(a.err).to.contain("--only: unknown controller 'nope'");
    const b = await run(["--kubeconfig", "/nonexistent", "--frobnicate"]);
    expect(b.err).to.contain("unknown flag --frobnicate");
  });
});
