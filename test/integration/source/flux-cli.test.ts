import { expect } from "chai";
import { fluxCli } from "../../support/flux-cli";
import { GitRepository } from "../../../controllers/api/source/v1/git-repository";
import { getCluster, newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { createGitRepository, gitRepos, waitFor } from "./support";

describe("GitRepository: driven by the upstream flux CLI", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  let flux: (...args: string[]) => Promise<string>;
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: { "a.yaml": "a: 1\n" } });
    const { kubeconfigPath } = await getCluster();
    flux = fluxCli(kubeconfigPath);
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  it("lists our GitRepositories with revision and readiness (flux get sources git)", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "podinfo", { url: git.http!.url(), ref: { branch: "main" } });
    await waitFor(ctl.client, ns, "podinfo", { ready: "True" });
    const out = await flux("get", "sources", "git", "-n", ns);
    expect(out).to.match(/NAME\s+REVISION\s+SUSPENDED\s+READY\s+MESSAGE/);
    // flux shortens the hash to 8 characters in the table, also inside the message.
    const short = `main@sha1:${git.initialCommit.slice(0, 8)}`;
    expect(out).to.match(new RegExp(`podinfo\\s+${short}\\s+False\\s+True\\s+stored artifact for revision '${short}'`));
  });

  it("reconciles on request and waits for lastHandledReconcileAt (flux reconcile source git)", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "app", { url: git.http!.url(), ref: { branch: "main" }, interval: "1h" });
    await waitFor(ctl.client, ns, "app", { ready: "True" });
    const sha = await git.fixture.commitFiles({ "b.yaml": "b: 1\n" }, "new");
    const out = await flux("reconcile", "source", "git", "app", "-n", ns);
    expect(out).to.contain(`fetched revision main@sha1:${sha}`);
    const r = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
    expect(r!.status!.lastHandledReconcileAt).to.equal(r!.metadata.annotations!["reconcile.fluxcd.io/requestedAt"]);
  });

  it("suspends and resumes (flux suspend/resume source git)", async function () {
    const ns = await newNamespace();
    await createGitRepository(ctl, ns, "app", { url: git.http!.url(), ref: { branch: "main" } });
    await waitFor(ctl.client, ns, "app", { ready: "True" });
    await flux("suspend", "source", "git", "app", "-n", ns);
    const suspended = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
    expect(suspended!.spec.suspend).to.equal(true);
    expect(await flux("get", "sources", "git", "-n", ns)).to.match(/app\s+\S+\s+True\s+True/);
    const out = await flux("resume", "source", "git", "app", "-n", ns);
    expect(out).to.match(/resumed|fetched revision/);
    const resumed = await ctl.client.get<GitRepository>(gitRepos, { namespace: ns, name: "app" });
    expect(resumed!.spec.suspend).to.not.equal(true);
  });
});
