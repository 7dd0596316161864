import { expect } from "chai";
import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../cli/ports";
import { repoRoot } from "../../../cli/tools";
import { KubeClient } from "../../../controllers/runtime/kube";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds } from "../../support/controllers";
import { GitServers, startGitServers } from "../../support/git-server";
import { createGitRepository } from "../source/support";
import { configMap, createKustomization, gitSource } from "../kustomize/support";
import { WebhookSink, createAlert, createProvider, createReceiver, createSecret, startWebhookSink, waitForReceiver } from "./support";

describe("gitops controllers run: the notification controller and --events-addr", function () {
  this.timeout(120000);
  let git: GitServers;
  let sink: WebhookSink;
  const procs: ChildProcess[] = [];
  before(async () => {
    await installCrds();
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    sink = await startWebhookSink();
  });
  after(async () => { for (const p of procs) p.kill("SIGKILL"); await sink?.close(); await git?.close(); });

  /** Starts the CLI; resolves once it logged "controllers started". */
  async function run(ns: string, args: string[]): Promise<{ proc: ChildProcess; log: () => string }> {
    const { kubeconfigPath } = await getCluster();
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-proc-storage-"));
    let out = "";
    const proc = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath,
      "--storage-path", storage, "--storage-addr", "127.0.0.1:0", "--log-level", "info", ...args],
    { env: { ...process.env, RUNTIME_NAMESPACE: ns }, stdio: ["ignore", "pipe", "pipe"] });
    procs.push(proc);
    proc.stdout!.on("data", (c) => (out += c));
    proc.stderr!.on("data", (c) => (out += c));
    await eventually(() => /"msg":"controllers started"/.test(out) || proc.exitCode !== null, { timeoutMs: 30000, what: "controllers started" });
    if (proc.exitCode !== null) throw new Error(`gitops controllers run exited with ${proc.exitCode}:\n${out}`);
    return { proc, log: () => out };
  }

  async function stop(proc: ChildProcess): Promise<number | null> {
    const exit = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    return exit;
  }

  it("runs source and notification in one process: events reach an Alert's webhook, and a Receiver hook is served", async function () {
    const { kc } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    const ns = await newNamespace();
    const labels = { [INSTANCE_LABEL]: `proc-${randomSuffix(6)}` };
    const [eventsPort, receiverPort] = [await freePort(), await freePort()];
    const { proc, log } = await run(ns, ["--only", "source,notification", "--events-addr", `127.0.0.1:${eventsPort}`,
      "--receiver-addr", `127.0.0.1:${receiverPort}`, "--watch-label-selector", `${INSTANCE_LABEL}=${labels[INSTANCE_LABEL]}`]);
    expect(log()).to.contain(`"address":"http://127.0.0.1:${eventsPort}/"`);

    await createProvider({ client, labels }, ns, "hook", { type: "generic", address: sink.url(`/proc-${ns}`) });
    await createAlert({ client, labels }, ns, "all", { providerRef: { name: "hook" }, eventSources: [{ kind: "GitRepository", name: "*" }] });
    await createSecret(client, ns, "token", { token: "proc-token" });
    await createReceiver({ client, labels }, ns, "hook", { type: "generic", secretRef: { name: "token" }, resources: [{ kind: "GitRepository", name: "app" }] });
    const receiver = await waitForReceiver(client, ns, "hook", { ready: "True" });
    await createGitRepository({ client, labels }, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });

    const got = await eventually(() => sink.at(`/proc-${ns}`).find((r) => r.json?.reason === "NewArtifact"), { timeoutMs: 30000, what: "NewArtifact at the webhook" })
      .catch((e) => { throw new Error(`${(e as Error).message}\n${log().slice(-3000)}`); });
    expect(got.json.metadata.revision).to.equal(`main@sha1:${git.initialCommit}`);
    expect(got.headers["gotk-component"]).to.equal("source-controller");

    const path_ = `/hook/${createHash("sha256").update(`proc-token` + "hook" + ns).digest("hex")}`;
    expect(receiver.status!.webhookPath).to.equal(path_);
    expect((await fetch(`http://127.0.0.1:${receiverPort}${path_}`, { method: "POST", body: "{}" })).status).to.equal(200);
    expect(await stop(proc)).to.equal(0);
  });

  it("with --events-addr set to a URL, posts Flux's event/v1 JSON there (group-prefixed metadata)", async function () {
    const { kc } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    const ns = await newNamespace();
    const labels = { [INSTANCE_LABEL]: `proc-${randomSuffix(6)}` };
    const { proc } = await run(ns, ["--only", "source", "--events-addr", sink.url(`/remote-${ns}`),
      "--watch-label-selector", `${INSTANCE_LABEL}=${labels[INSTANCE_LABEL]}`]);
    await createGitRepository({ client, labels }, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
    const got = await eventually(() => sink.at(`/remote-${ns}`).find((r) => r.json?.reason === "NewArtifact"), { timeoutMs: 30000, what: "the raw event" });
    expect(got.json).to.include({ severity: "info", reportingController: "source-controller" });
    expect(got.json.involvedObject).to.include({ kind: "GitRepository", name: "app", namespace: ns, apiVersion: "source.toolkit.fluxcd.io/v1" });
    expect(got.json.metadata).to.deep.equal({ "source.toolkit.fluxcd.io/revision": `main@sha1:${git.initialCommit}` });
    expect(got.json.reportingInstance).to.be.a("string").and.not.empty;
    expect(await stop(proc)).to.equal(0);
  });

  it("forwards the kustomize controller's events too (its own recorder), as the Deployments run it", async function () {
    const { kc } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    const ns = await newNamespace();
    const labels = { [INSTANCE_LABEL]: `proc-${randomSuffix(6)}` };
    const { proc, log } = await run(ns, ["--only", "source,kustomize", "--events-addr", sink.url(`/kz-${ns}`),
      "--watch-label-selector", `${INSTANCE_LABEL}=${labels[INSTANCE_LABEL]}`]);
    const src = await gitSource(client, ns, { "app/cm.yaml": configMap("greeting", { hello: "world" }) }, "repo", labels);
    await createKustomization(client, ns, "app", { path: "./app", targetNamespace: ns }, labels);
    const got = await eventually(() => sink.at(`/kz-${ns}`).find((r) => r.json?.involvedObject?.kind === "Kustomization"), { timeoutMs: 60000, what: "a Kustomization event" })
      .catch((e) => { throw new Error(`${(e as Error).message}\n${log().slice(-3000)}`); });
    expect(got.json).to.include({ severity: "info", reportingController: "kustomize-controller" });
    expect(got.json.involvedObject).to.include({ name: "app", namespace: ns, apiVersion: "kustomize.toolkit.fluxcd.io/v1" });
    expect(got.json.metadata["kustomize.toolkit.fluxcd.io/revision"]).to.equal(`main@sha1:${src.commit}`);
    expect(got.json.message).to.contain(`ConfigMap/${ns}/greeting created`);
    expect(await stop(proc)).to.equal(0);
  });

  it("rejects a listen address for --events-addr when the notification controller is not run", async function () {
    const { kubeconfigPath } = await getCluster();
    const p = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath, "--only", "source", "--events-addr", ":9690"],
      { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    p.stderr!.on("data", (c) => (err += c));
    const code = await new Promise<number | null>((r) => p.on("exit", r));
    expect(code).to.equal(2);
    expect(err).to.contain("--events-addr ':9690' is a listen address");
  });
});
