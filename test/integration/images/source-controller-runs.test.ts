// source-controller from its image, as a pod would run it (entrypoint, environment, user 65534,
// read-only root, tmpfs /tmp and /data), against the test cluster: it becomes ready and turns a
// GitRepository on the local git server into an artifact with the image's own git.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { freePort } from "../../../cli/ports";
import { KubeClient } from "../../../controllers/runtime/kube";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds } from "../../support/controllers";
import { makeTempDir, removeDir } from "../../support/git-cli";
import { startGitServers, GitServers } from "../../support/git-server";
import { ImageConfig, PREFIX, crane, exportRootfs, pushedImages, spawnInRootfs, stopInRootfs } from "../../support/images";
import { createGitRepository, waitFor } from "../source/support";

describe("images: source-controller runs from its image against the cluster", function () {
  this.timeout(900_000);
  let git: GitServers | undefined;
  let hostDir: string | undefined;
  after(async () => { await git?.close(); if (hostDir) removeDir(hostDir); });

  it("is ready on its health port and builds a GitRepository artifact with the image's git", async () => {
    if (process.getuid?.() !== 0) throw new Error("needs root: unshare --mount --pid and chroot");
    const { registry } = await pushedImages();
    const ref = `${registry.host}/${PREFIX}/source-controller:v0.1.0`;
    const root = await exportRootfs(ref);
    const cfg = JSON.parse(await crane(["config", ref])) as ImageConfig;

    await installCrds();
    const { kc, kubeconfigPath } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    git = await startGitServers({ http: {}, files: { "deploy/app.yaml": "kind: ConfigMap\n" } });
    const ns = await newNamespace();
    const instance = `img-${randomSuffix(6)}`;
    // the kubeconfig reaches the pod as a read-only mount, as a ServiceAccount token would
    hostDir = makeTempDir();
    fs.copyFileSync(kubeconfigPath, path.join(hostDir, "kubeconfig"));
    fs.chmodSync(hostDir, 0o755);
    fs.chmodSync(path.join(hostDir, "kubeconfig"), 0o644);
    // loopback ports of our own (the host's network namespace is shared); later flags win over the entrypoint's
    const [storagePort, metricsPort, healthPort] = [await freePort(), await freePort(), await freePort()];
    const proc = spawnInRootfs(root, [...cfg.config.Entrypoint, "--kubeconfig=/tmp/host/kubeconfig",
      `--storage-addr=127.0.0.1:${storagePort}`, `--storage-adv-addr=127.0.0.1:${storagePort}`,
      `--metrics-addr=127.0.0.1:${metricsPort}`, `--health-addr=127.0.0.1:${healthPort}`,
      "--log-encoding=json", "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`],
    [...cfg.config.Env, `RUNTIME_NAMESPACE=${ns}`], hostDir);
    let logs = "";
    proc.stdout!.on("data", (c) => (logs += c));
    proc.stderr!.on("data", (c) => (logs += c));
    try {
      await eventually(async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200,
        { timeoutMs: 60000, what: "/readyz of the image's source-controller" });
      await createGitRepository({ client, labels: { [INSTANCE_LABEL]: instance } }, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
      const repo = await waitFor(client, ns, "app", { ready: "True" });
      expect(repo.status!.artifact!.url).to.match(new RegExp(`^http://127.0.0.1:${storagePort}/gitrepository/${ns}/app/`));
      const res = await fetch(repo.status!.artifact!.url);
      expect(res.status).to.equal(200);
      expect((await res.arrayBuffer()).byteLength).to.be.greaterThan(0);
    } catch (e) {
      throw new Error(`${(e as Error).message}\ncontroller output:\n${logs.slice(-3000)}`);
    } finally {
      await stopInRootfs(proc);
    }
  });
});
