// Updates of a Bootstrap: a version or component change and a branch change are diffs in preview,
// reach git and the cluster, and wait for the new revision; rotated credentials reach the Secret;
// commits carry the author and message appendix given; a customisation change is a diff too.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import type { BootstrapArgs } from "../../../provider/components/bootstrap";
import { randomSuffix } from "../../support/cluster";
import { filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

describe("Bootstrap updates", function () {
  this.timeout(400_000);
  withControllers();

  it("adds a component and bumps the version: a diff at preview, pushed, applied and awaited", async () => {
    const creds = { username: "flux", password: `pw-${randomSuffix(8)}` };
    const git = await gitRepo({ http: { basicAuth: creds } });
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    let args: Partial<BootstrapArgs> = { components: ["source-controller", "kustomize-controller"] };
    const stack = await inlineStack("update-components", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        http: { ...creds, password: pulumi.secret(creds.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
        ...args,
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files };
    });
    const first = await stack.up();
    expect(await getObject("apps/v1", "Deployment", "helm-controller", ns)).to.equal(undefined);

    args = { components: ["source-controller", "kustomize-controller", "helm-controller"], version: "v0.1.1" };
    const preview = await stack.preview();
    expect(preview.changes.update, JSON.stringify(preview.changes)).to.be.greaterThan(0);
    expect(preview.stdout).to.include("gotk-components.yaml");

    const second = await stack.up();
    expect(second.outputs.revision).to.not.equal(first.outputs.revision);
    const comp = (await filesAt(git, [`${ns}/gotk-components.yaml`]))[`${ns}/gotk-components.yaml`]!;
    expect(comp).to.include("name: helm-controller").and.include("source-controller:v0.1.1");
    const helm = await getObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>("apps/v1", "Deployment", "helm-controller", ns);
    expect(helm?.spec.template.spec.containers[0]!.image).to.match(/helm-controller:v0\.1\.1$/);
    if (canSync()) expect(second.outputs.appliedRevision).to.equal(`main@sha1:${second.outputs.revision}`);
    expect(changed((await stack.up()).changes)).to.equal(0);
  });

  it("rotates the git credentials into the Secret, and follows a branch change in the cluster", async () => {
    const creds = { username: "flux", password: `pw-${randomSuffix(8)}` };
    const git = await gitRepo({ http: { basicAuth: creds } });
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    let password = creds.password;
    let branch = "main";
    const stack = await inlineStack("update-credentials", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        branch,
        namespace: ns,
        http: { username: creds.username, password: pulumi.secret(password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { appliedRevision: b.appliedRevision, revision: b.revision };
    });
    await stack.up();
    // The forge rotates the token; the program gets the new one.
    password = `pw-${randomSuffix(8)}`;
    creds.password = password;
    const rotated = await stack.up();
    expect(changed(rotated.changes)).to.be.greaterThan(0);
    const secret = await getObject("v1", "Secret", ns, ns);
    expect(Buffer.from(secret!.data!.password!, "base64").toString()).to.equal(password);

    branch = "prod";
    const moved = await stack.up();
    const repo = await getObject<{ spec: { ref: { branch: string } } }>("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns);
    expect(repo!.spec.ref.branch).to.equal("prod");
    expect((await filesAt(git, [`${ns}/gotk-sync.yaml`], "prod"))[`${ns}/gotk-sync.yaml`]).to.include("branch: prod");
    if (canSync()) expect(moved.outputs.appliedRevision).to.equal(`prod@sha1:${moved.outputs.revision}`);
  });

  it("commits as authorName/authorEmail with commitMessageAppendix; a customisation change is a kustomization.yaml diff at preview, then applied", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const author = { authorName: "Fleet Bot", authorEmail: "fleet-bot@example.test", commitMessageAppendix: "Change-Id: I0123456789abcdef\n[skip ci]" };
    let customisation: BootstrapArgs["customisation"];
    const stack = await inlineStack("update-commit", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        namespace: ns,
        http: { username: gitRepoUser.username, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
        ...author,
        customisation,
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision };
    });
    /** Author, committer and full message of a commit, from the served repository. */
    const commit = async (sha: string) => {
      const r = await git.fixture.tryGit(["--git-dir", git.barePath, "log", "-1", "--format=%an <%ae>%n%cn <%ce>%n%B", sha]);
      expect(r.code).to.equal(0);
      const [a, c, ...message] = r.stdout.trimEnd().split("\n");
      return { author: a, committer: c, message: message.join("\n") };
    };
    const first = await stack.up();
    const c1 = await commit(first.outputs.revision as string);
    expect(c1.author).to.equal("Fleet Bot <fleet-bot@example.test>");
    expect(c1.committer).to.equal("Fleet Bot <fleet-bot@example.test>");
    expect(c1.message).to.match(/^Add Flux v\S+ component and sync manifests\n\nChange-Id: I0123456789abcdef\n\[skip ci\]$/);

    customisation = { extraArgs: { "kustomize-controller": ["--concurrent=8"] } };
    const preview = await stack.preview();
    expect(preview.changes.update, JSON.stringify(preview.changes)).to.equal(1);
    expect(preview.stdout).to.include(`${ns}/kustomization.yaml`).and.include("--concurrent=8");
    const second = await stack.up();
    expect(second.outputs.revision).to.not.equal(first.outputs.revision);
    const c2 = await commit(second.outputs.revision as string);
    expect(c2.author).to.equal("Fleet Bot <fleet-bot@example.test>");
    expect(c2.message).to.equal("Update Flux manifests\n\nChange-Id: I0123456789abcdef\n[skip ci]");
    const kz = (await filesAt(git, [`${ns}/kustomization.yaml`]))[`${ns}/kustomization.yaml`]!;
    expect(kz).to.include("--concurrent=8");
    const deploy = await getObject<{ spec: { template: { spec: { containers: { args?: string[] }[] } } } }>("apps/v1", "Deployment", "kustomize-controller", ns);
    expect(deploy!.spec.template.spec.containers[0]!.args).to.include("--concurrent=8");
    if (canSync()) expect(second.outputs.appliedRevision).to.equal(`main@sha1:${second.outputs.revision}`);
    await stack.preview({ expectNoChanges: true });
  });
});
