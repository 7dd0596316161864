// `gitops controllers run --only source,image-reflector,image-automation` as a local process:
// a real registry and a git server over HTTP; the automation pushes the ImagePolicy's image.
import { expect } from "chai";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../cli/tools";
import type { ImageUpdateAutomation } from "../../../controllers/api/image/v1/image-update-automation";
import { imageUpdateAutomations } from "../../../controllers/image-automation/reconciler";
import { imagePolicies } from "../../../controllers/image-reflector/imagepolicy-reconciler";
import { imageRepositories } from "../../../controllers/image-reflector/imagerepository-reconciler";
import { gitRepositories } from "../../../controllers/source/git/gitrepository-reconciler";
import { KubeClient } from "../../../controllers/runtime/kube";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds } from "../../support/controllers";
import { GitServers, startGitServers } from "../../support/git-server";
import { OciRegistry } from "../../support/oci-registry";

describe("gitops controllers run --only image-automation", function () {
  this.timeout(150000);
  let proc: ChildProcess | undefined;
  let reg: OciRegistry | undefined;
  let git: GitServers | undefined;
  after(async () => { proc?.kill("SIGKILL"); await reg?.close(); await git?.close(); });

  it("commits the latest image into git and reports it in status", async () => {
    await installCrds();
    const { kc, kubeconfigPath } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    reg = await OciRegistry.start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-src-"));
    fs.writeFileSync(path.join(dir, "a.yaml"), "a: 1\n");
    await reg.push("app:0.1.0", dir);
    await reg.tag("app:0.1.0", "0.2.0");
    const ns = await newNamespace();
    const manifest = (tag: string) => `image: ${reg!.host}/app:${tag} # {"$imagepolicy": "${ns}:app"}\n`;
    git = await startGitServers({ http: { basicAuth: { username: "u", password: "p" } }, files: { "app.yaml": manifest("0.1.0") } });
    const instance = `proc-${randomSuffix(6)}`;
    const storage = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-iua-proc-"));
    let out = "";
    proc = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath, "--only", "source,image-reflector,image-automation",
      "--storage-path", path.join(storage, "artifacts"), "--storage-addr", "127.0.0.1:0", "--image-storage-path", path.join(storage, "tags"),
      "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0", "--log-level", "info", "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`],
    { env: { ...process.env, RUNTIME_NAMESPACE: ns }, stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (c) => (out += c));
    proc.stderr!.on("data", (c) => (out += c));
    const labels = { [INSTANCE_LABEL]: instance };
    const meta = (name: string) => ({ name, namespace: ns, labels });
    await client.create({ group: "", version: "v1", plural: "secrets", kind: "Secret" }, { apiVersion: "v1", kind: "Secret", metadata: { name: "auth", namespace: ns }, stringData: { username: "u", password: "p" } } as never);
    await client.create(gitRepositories, { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: meta("app"),
      spec: { url: git.http!.url(), interval: "1m", ref: { branch: "main" }, secretRef: { name: "auth" } } } as never);
    await client.create(imageRepositories, { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", metadata: meta("app"),
      spec: { image: `${reg.host}/app`, interval: "5m", insecure: true } } as never);
    await client.create(imagePolicies, { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImagePolicy", metadata: meta("app"),
      spec: { imageRepositoryRef: { name: "app" }, policy: { semver: { range: ">=0.1.0" } } } } as never);
    await client.create(imageUpdateAutomations, { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageUpdateAutomation", metadata: meta("app"),
      spec: { interval: "5m", sourceRef: { kind: "GitRepository", name: "app" }, git: { commit: { author: { name: "bot", email: "bot@example.invalid" } } } } } as never);
    const a = await eventually(async () => {
      const o = await client.get<ImageUpdateAutomation>(imageUpdateAutomations, { namespace: ns, name: "app" });
      return o?.status?.lastPushCommit ? o : undefined;
    }, { timeoutMs: 60000, what: "the automation's push" }).catch((e) => { throw new Error(`${(e as Error).message}\n${out.slice(-3000)}`); });
    expect(a.status!.conditions!.find((c) => c.type === "Ready")).to.include({ status: "True", reason: "Succeeded", message: "repository up-to-date" });
    expect(execFileSync("git", ["--git-dir", git.barePath, "show", "main:app.yaml"], { encoding: "utf8" })).to.equal(manifest("0.2.0"));
    expect(a.status!.lastPushCommit).to.equal(execFileSync("git", ["--git-dir", git.barePath, "rev-parse", "main"], { encoding: "utf8" }).trim());
    const exit = new Promise<number | null>((r) => proc!.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    expect(await exit).to.equal(0);
    proc = undefined;
    fs.rmSync(storage, { recursive: true, force: true });
  });
});
