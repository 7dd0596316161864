// Bootstrapping where something already exists: an installation made by another stack (adopted
// without a new commit), a repository with unrelated content (left untouched, and the cluster
// path reconciled), and an empty repository (initialised with a first commit).
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import type { BootstrapArgs } from "../../../provider/components/bootstrap";
import { runGit } from "../../support/git-server";
import { eventually } from "../../support/cluster";
import { commitCount, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText, tipOf } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

describe("Bootstrap over existing state", function () {
  this.timeout(400_000);
  const controllers = withControllers();

  function program(url: string, ns: string, extra: Partial<BootstrapArgs> = {}) {
    return async () => {
      const kubeconfig = await kubeconfigText();
      const b = new Bootstrap("flux", {
        url,
        namespace: ns,
        http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
        ...extra,
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files };
    };
  }

  it("adopts an existing installation with the same files: no new commit, nothing re-created", async () => {
    const git = await gitRepo();
    const ns = fluxNamespace();
    const original = await inlineStack("adopt-original", program(git.urls.http!, ns), { keep: true });
    await original.up();
    // The commit the first bootstrap pushed, read from git: the first up's stack outputs once
    // came back without `revision` in CI (automation API read, not reproduced).
    const pushed = await tipOf(git);
    const commits = await commitCount(git);
    const deployment = await getObject<{ metadata: { uid: string } }>("apps/v1", "Deployment", "source-controller", ns);
    // The stack that made it is forgotten (state removed, nothing destroyed).
    await original.stack.workspace.removeStack(original.name, { force: true });

    const adopter = await inlineStack("adopt-new", program(git.urls.http!, ns));
    const res = await adopter.up();
    expect(pushed).to.be.a("string");
    expect(res.outputs.revision).to.equal(pushed);
    expect(await commitCount(git)).to.equal(commits);
    const again = await getObject<{ metadata: { uid: string } }>("apps/v1", "Deployment", "source-controller", ns);
    expect(again!.metadata.uid).to.equal(deployment!.metadata.uid);
    expect(changed((await adopter.up()).changes)).to.equal(0);
  });

  it("leaves unrelated content alone and reconciles the cluster path", async () => {
    const git = await gitRepo({
      files: {
        "README.md": "# platform repo\n",
        "apps/web/deploy.yaml": "kind: Deployment\n",
        "clusters/dev/hello.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hello, namespace: default}\ndata: {greeting: hi}\n",
      },
    });
    await git.fixture.createBranch("dev");
    const devTip = await tipOf(git, "dev");
    const ns = fluxNamespace();
    const stack = await inlineStack("existing-content", program(git.urls.http!, ns, { path: "clusters/dev" }));
    await stack.up();
    const untouched = await filesAt(git, ["README.md", "apps/web/deploy.yaml", "clusters/dev/hello.yaml"]);
    expect(untouched["README.md"]).to.equal("# platform repo\n");
    expect(untouched["apps/web/deploy.yaml"]).to.equal("kind: Deployment\n");
    expect(untouched["clusters/dev/hello.yaml"]).to.include("greeting: hi");
    expect(await tipOf(git, "dev")).to.equal(devTip);
    if (canSync()) {
      const cm = await eventually(() => getObject<{ data: Record<string, string> }>("v1", "ConfigMap", "hello", "default"), { timeoutMs: 30_000, what: "ConfigMap hello applied by Flux" })
        .catch(async (e) => {
          // What the sync says, and the controllers' last words, for a failure seen only in CI.
          const ks = await getObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, ns);
          throw new Error(`${(e as Error).message}\nKustomization: ${JSON.stringify(ks?.status ?? ks ?? "gone")}\ncontrollers:\n${controllers.current()?.log().slice(-4000) ?? ""}`);
        });
      expect(cm.data.greeting).to.equal("hi");
    }
    await stack.destroy();
    expect((await filesAt(git, ["README.md"]))["README.md"]).to.equal("# platform repo\n");
  });

  it("initialises an empty repository with a first commit on the branch", async () => {
    const git = await gitRepo();
    const bare = git.fixture.barePath("empty.git");
    await runGit(["init", "-q", "--bare", "-b", "main", bare], { env: git.fixture.env });
    await runGit(["config", "http.receivepack", "true"], { cwd: bare, env: git.fixture.env });
    const ns = fluxNamespace();
    const url = git.http!.url("empty.git");
    const stack = await inlineStack("empty-repo", program(url, ns, { branch: "main" }));
    const res = await stack.up();
    const log = await runGit(["--git-dir", bare, "log", "--format=%H|%P|%s", "main"], { env: git.fixture.env });
    const lines = log.split("\n").filter(Boolean);
    expect(lines).to.have.length(1);
    const [sha, parents, subject] = lines[0]!.split("|");
    expect(sha).to.equal(res.outputs.revision);
    expect(parents).to.equal("");
    expect(subject).to.match(/^Add Flux v\S+ component and sync manifests/);
    if (canSync()) expect(res.outputs.appliedRevision).to.equal(`main@sha1:${sha}`);
  });
});
