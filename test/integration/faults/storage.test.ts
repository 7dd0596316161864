// Fault: the source-controller's artifact storage turns read-only, or fills up. The storage
// volume is a small tmpfs (mounting needs root, as CI has), remounted read-only or filled with a
// file. A new revision cannot be stored: GitRepository Ready=False with the real error, the old
// artifact stays in status, intact on disk and served, the Kustomization built from it keeps its
// objects; once the volume is writable (or has room) again, both converge on their own.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import type { KubeObject } from "../../../controllers/runtime/keys";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers as startSource } from "../../support/controllers";
import { startGitServers } from "../../support/git-server";
import { waitForSource } from "../../support/oci-registry";
import { onTeardown } from "../../support/teardown";
import { INSTANCE_LABEL, configMap, core, createKustomization, getKustomization, gitRepositories, startControllers, waitForReady } from "../kustomize/support";
import { report } from "./support";

const INTERVAL_MS = 10_000;

describe("faults: artifact storage read-only or full", function () {
  this.timeout(180_000);
  let mnt: string;
  let source: RunningControllers;
  const mount = (...args: string[]) => execFileSync("mount", args, { stdio: "pipe" });
  before(async function () {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-faults-storage-"));
    try { mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt); } catch (e) {
      if (process.getuid?.() !== 0) this.skip(); // a tmpfs needs root (CI runs as root)
      throw e;
    }
    onTeardown(() => { try { execFileSync("umount", ["-l", mnt], { stdio: "ignore" }); } catch { /* already */ } });
    source = await startSource({ storageDir: mnt });
    await startControllers({ instance: source.labels[INSTANCE_LABEL], withSource: false });
  });

  async function fault(what: string, o: { reason: string; error: RegExp; break: () => void; repair: () => void; bigRevision?: boolean }): Promise<void> {
    const ns = await newNamespace("faults-storage");
    const git = await startGitServers({ http: {}, files: { "app/cm.yaml": configMap("app-cm", { v: "1" }) } });
    onTeardown(() => git.close());
    await source.client.create(gitRepositories, {
      apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "repo", namespace: ns, labels: source.labels },
      spec: { interval: "10s", url: git.urls.http!, ref: { branch: "main" } },
    } as never);
    await createKustomization(source.client, ns, "app", { path: "./app", targetNamespace: ns, interval: "10s", retryInterval: "5s" }, source.labels);
    const good = await waitForSource<GitRepository>(source.client, gitRepositories, ns, "repo", { ready: "True" }, 60_000);
    const artifact = good.status!.artifact!;
    const applied = await waitForReady(source.client, ns, "app");
    const bytes = fs.readFileSync(path.join(mnt, artifact.path));
    o.break();
    // Incompressible content, so a full volume cannot take the new artifact either.
    const noise = Array.from({ length: 40_000 }, () => Math.random().toString(36)).join("\n");
    const sha = await git.fixture.commitFiles({ "app/cm.yaml": configMap("app-cm", { v: "2" }), ...(o.bigRevision ? { "big.txt": noise } : {}) }, `new revision while storage is ${what}`);
    const tBroken = Date.now();
    const failed = await waitForSource<GitRepository>(source.client, gitRepositories, ns, "repo", { ready: "False", reason: o.reason, message: o.error }, 3 * INTERVAL_MS);
    const detectMs = Date.now() - tBroken;
    expect(failed.status!.artifact, "the old artifact stays in status").to.deep.equal(artifact);
    expect(failed.status!.conditions!.find((c) => c.type === "StorageOperationFailed")).to.include({ status: "True" });
    expect(fs.readFileSync(path.join(mnt, artifact.path)).equals(bytes), "the old artifact is intact on disk").to.equal(true);
    const served = Buffer.from(await (await fetch(artifact.url)).arrayBuffer());
    expect(`sha256:${createHash("sha256").update(served).digest("hex")}`, "and served").to.equal(artifact.digest);
    const k = await getKustomization(source.client, ns, "app");
    expect(k.status?.inventory, "nothing pruned").to.deep.equal(applied.status?.inventory);
    expect((await source.client.get<KubeObject & { data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "app-cm" }))?.data).to.deep.equal({ v: "1" });
    o.repair();
    const tRepaired = Date.now();
    await waitForReady(source.client, ns, "app", { revisionSha: sha, timeoutMs: 2 * INTERVAL_MS + 10_000 });
    const recoverMs = Date.now() - tRepaired;
    expect(recoverMs, "converged within two intervals").to.be.below(2 * INTERVAL_MS);
    expect((await source.client.get<KubeObject & { data?: Record<string, string> }>(core.configMaps, { namespace: ns, name: "app-cm" }))?.data).to.deep.equal({ v: "2" });
    report(`artifact storage ${what}`, { detectMs, recoverMs, error: failed.status!.conditions!.find((c) => c.type === "Ready")!.message, lost: 0 });
  }

  it("read-only: Ready=False (ArchiveOperationFailed, read-only file system), old artifact intact and served, recovers", async () => {
    await fault("read-only", {
      reason: "ArchiveOperationFailed", error: /read-only file system/,
      break: () => mount("-o", "remount,ro", mnt), repair: () => mount("-o", "remount,rw", mnt),
    });
  });

  it("full: Ready=False (ArchiveOperationFailed, no space left), old artifact intact and served, recovers", async () => {
    const filler = path.join(mnt, "filler");
    await fault("full", {
      reason: "ArchiveOperationFailed", error: /no space left/, bigRevision: true,
      break: () => { try { execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=1000"], { stdio: "ignore" }); } catch { /* full: intended */ } },
      repair: () => fs.rmSync(filler),
    });
  });
});
