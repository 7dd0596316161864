// Bootstrap over HTTP(S) with basic auth, through the real pulumi engine and the plugin:
// files in git with Flux's layout, objects in the cluster, credentials Secret, no-op second up.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import { commitCount, filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { changed, inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

describe("Bootstrap over HTTP", function () {
  this.timeout(300_000);
  withControllers();

  it("pushes Flux's three files, installs the controllers, creates the Secret, and a second up changes nothing", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const ns = fluxNamespace();
    const stack = await inlineStack("bootstrap-http", async () => {
      const b = new Bootstrap("flux", {
        url: git.urls.http!,
        path: "clusters/dev",
        namespace: ns,
        http: { username: gitRepoUser.username, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
        kubeconfig: pulumi.secret(kubeconfig),
        ...waitForSync(),
      });
      return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files, namespace: b.namespace };
    });
    const first = await stack.up();
    const dir = `clusters/dev/${ns}`;
    const files = first.outputs.files as Record<string, string>;
    expect(Object.keys(files).sort()).to.deep.equal([`${dir}/gotk-components.yaml`, `${dir}/gotk-sync.yaml`, `${dir}/kustomization.yaml`]);
    const inGit = await filesAt(git, Object.keys(files));
    for (const [p, content] of Object.entries(files)) expect(inGit[p], p).to.equal(content);
    expect(inGit[`${dir}/gotk-sync.yaml`]).to.include(`path: ./clusters/dev`).and.include(`name: ${ns}`);
    if (canSync()) {
      // Ready at the pushed revision, and Flux now manages its own installation from git.
      expect(first.outputs.appliedRevision).to.equal(`main@sha1:${first.outputs.revision}`);
      const ks = await getObject<{ status: { lastAppliedRevision: string; inventory: { entries: { id: string }[] } } }>("kustomize.toolkit.fluxcd.io/v1", "Kustomization", ns, ns);
      expect(ks!.status.lastAppliedRevision).to.equal(first.outputs.appliedRevision);
      expect(ks!.status.inventory.entries.map((e) => e.id)).to.include(`${ns}_source-controller_apps_Deployment`);
    }
    const commits = await commitCount(git);
    expect(commits).to.equal(2);

    const deploy = await getObject("apps/v1", "Deployment", "source-controller", ns);
    expect(deploy?.metadata.labels?.["app.kubernetes.io/part-of"]).to.equal("flux");
    const secret = await getObject("v1", "Secret", ns, ns);
    expect(Buffer.from(secret!.data!.password!, "base64").toString()).to.equal(gitRepoUser.password);
    const repo = await getObject("source.toolkit.fluxcd.io/v1", "GitRepository", ns, ns);
    expect(repo?.spec?.url).to.equal(git.urls.http);

    const second = await stack.up();
    expect(changed(second.changes), JSON.stringify(second.changes)).to.equal(0);
    expect(await commitCount(git)).to.equal(commits);
    console.log(`      first up ${first.ms} ms, no-op up ${second.ms} ms`);

    await stack.destroy();
    expect(await getObject("apps/v1", "Deployment", "source-controller", ns)).to.equal(undefined);
    const after = await filesAt(git, Object.keys(files));
    expect(Object.values(after).every((v) => v === null)).to.equal(true);
  });
});
