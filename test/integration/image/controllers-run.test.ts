// `gitops controllers run --only image-reflector` as a local process: it scans a real registry
// and keeps the tags in --image-storage-path.
import { expect } from "chai";
import { spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repoRoot } from "../../../cli/tools";
import type { ImagePolicy } from "../../../controllers/api/image/v1/image-policy";
import { imagePolicies } from "../../../controllers/image-reflector/imagepolicy-reconciler";
import { imageRepositories } from "../../../controllers/image-reflector/imagerepository-reconciler";
import { KubeClient } from "../../../controllers/runtime/kube";
import { eventually, getCluster, newNamespace, randomSuffix } from "../../support/cluster";
import { INSTANCE_LABEL, installCrds } from "../../support/controllers";
import { OciRegistry } from "../../support/oci-registry";

describe("gitops controllers run --only image-reflector", function () {
  this.timeout(120000);
  let proc: ChildProcess | undefined;
  let reg: OciRegistry | undefined;
  after(async () => { proc?.kill("SIGKILL"); await reg?.close(); });

  it("resolves an ImagePolicy from a scanned registry and stores the tags under --image-storage-path", async () => {
    await installCrds();
    const { kc, kubeconfigPath } = await getCluster();
    const client = KubeClient.fromKubeConfig(kc);
    reg = await OciRegistry.start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-img-src-"));
    fs.writeFileSync(path.join(dir, "a.yaml"), "a: 1\n");
    await reg.push("app:0.1.0", dir);
    await reg.tag("app:0.1.0", "0.2.0");
    const ns = await newNamespace();
    const instance = `proc-${randomSuffix(6)}`;
    const store = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-img-db-"));
    let out = "";
    proc = spawn(path.join(repoRoot, "bin/gitops"), ["controllers", "run", "--kubeconfig", kubeconfigPath, "--only", "image-reflector",
      "--image-storage-path", store, "--log-level", "info", "--watch-label-selector", `${INSTANCE_LABEL}=${instance}`],
    { env: { ...process.env, RUNTIME_NAMESPACE: ns }, stdio: ["ignore", "pipe", "pipe"] });
    proc.stdout!.on("data", (c) => (out += c));
    proc.stderr!.on("data", (c) => (out += c));
    const labels = { [INSTANCE_LABEL]: instance };
    await client.create(imageRepositories, { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImageRepository", metadata: { name: "app", namespace: ns, labels },
      spec: { image: `${reg.host}/app`, interval: "5m", insecure: true } } as never);
    await client.create(imagePolicies, { apiVersion: "image.toolkit.fluxcd.io/v1", kind: "ImagePolicy", metadata: { name: "app", namespace: ns, labels },
      spec: { imageRepositoryRef: { name: "app" }, policy: { semver: { range: ">=0.1.0" } } } } as never);
    const p = await eventually(async () => {
      const o = await client.get<ImagePolicy>(imagePolicies, { namespace: ns, name: "app" });
      return o?.status?.latestRef?.tag === "0.2.0" ? o : undefined;
    }, { timeoutMs: 40000, what: "ImagePolicy latestRef 0.2.0" }).catch((e) => { throw new Error(`${(e as Error).message}\n${out.slice(-3000)}`); });
    expect(p.status!.conditions!.find((c) => c.type === "Ready")).to.include({ status: "True", reason: "Succeeded" });
    const stored = JSON.parse(fs.readFileSync(path.join(store, ns, "app.json"), "utf8"));
    expect(stored).to.deep.equal({ canonicalName: `${reg.host}/app`, tags: ["0.2.0", "0.1.0"] });
    const exit = new Promise<number | null>((r) => proc!.once("exit", (code) => r(code)));
    proc.kill("SIGTERM");
    expect(await exit).to.equal(0);
    proc = undefined;
  });
});
