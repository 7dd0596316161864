// Concurrent writers to one repository: two clusters bootstrapping at once (two stacks, two
// paths), and eight writers racing on the provider's git code; every push lands on a linear
// history through rebase-and-retry, and nothing is lost.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import { writeFiles } from "../../../provider/git/session";
import { runGit } from "../../support/git-server";
import { filesAt, fluxNamespace, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { inlineStack } from "./pulumi-harness";
import { canSync, waitForSync, withControllers } from "./sync";

describe("concurrent bootstraps into one repository", function () {
  this.timeout(400_000);
  withControllers();

  it("lands eight racing writers on a linear history", async () => {
    const git = await gitRepo();
    const target = { url: git.urls.http!, branch: "main", credentials: { http: gitRepoUser } };
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => writeFiles(target, { [`racers/${i}.txt`]: `writer ${i}\n` }, `writer ${i}`)),
    );
    expect(results.every((r) => r.pushed)).to.equal(true);
    expect(results.some((r) => r.attempts > 1), "at least one writer lost a race and retried").to.equal(true);
    const files = await filesAt(git, Array.from({ length: 8 }, (_, i) => `racers/${i}.txt`));
    expect(Object.values(files).every((v) => v !== null)).to.equal(true);
    const merges = await runGit(["--git-dir", git.barePath, "rev-list", "--merges", "--count", "main"], { env: git.fixture.env });
    expect(merges).to.equal("0");
  });

  it("bootstraps two clusters at once, each at its own path", async () => {
    const git = await gitRepo();
    const kubeconfig = await kubeconfigText();
    const make = (name: string, ns: string) =>
      inlineStack(`concurrent-${name}`, async () => {
        const b = new Bootstrap("flux", {
          url: git.urls.http!,
          path: `clusters/${name}`,
          namespace: ns,
          http: { ...gitRepoUser, password: pulumi.secret(gitRepoUser.password), allowInsecureHttp: true },
          kubeconfig: pulumi.secret(kubeconfig),
          ...waitForSync(),
        });
        return { revision: b.revision, appliedRevision: b.appliedRevision, files: b.files };
      });
    const [nsA, nsB] = [fluxNamespace(), fluxNamespace()];
    const [a, b] = await Promise.all([make("a", nsA), make("b", nsB)]);
    const [ra, rb] = await Promise.all([a.up(), b.up()]);
    const all = { ...(ra.outputs.files as Record<string, string>), ...(rb.outputs.files as Record<string, string>) };
    const inGit = await filesAt(git, Object.keys(all));
    for (const [p, content] of Object.entries(all)) expect(inGit[p], p).to.equal(content);
    if (canSync()) {
      expect(ra.outputs.appliedRevision).to.match(/^main@sha1:/);
      expect(rb.outputs.appliedRevision).to.match(/^main@sha1:/);
    }
    await Promise.all([a.destroy(), b.destroy()]);
  });
});
