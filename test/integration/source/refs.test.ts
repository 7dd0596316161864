import { expect } from "chai";
import { newNamespace } from "../../support/cluster";
import { RunningControllers, startControllers } from "../../support/controllers";
import { startGitServers, GitServers } from "../../support/git-server";
import { createGitRepository, waitFor } from "./support";

describe("GitRepository: references (branch, tag, semver, name, commit)", function () {
  let ctl: RunningControllers;
  let git: GitServers;
  const sha: Record<string, string> = {};
  before(async function () {
    this.timeout(120000);
    ctl = await startControllers();
    git = await startGitServers({ http: {}, files: { "v.txt": "0\n" } });
    const f = git.fixture;
    sha.first = git.initialCommit;
    sha.v100 = await f.commitFiles({ "v.txt": "1.0.0\n" }, "one");
    await f.tag("v1.0.0");
    sha.v110 = await f.commitFiles({ "v.txt": "1.1.0\n" }, "one-one");
    await f.annotatedTag("v1.1.0", "release 1.1.0");
    sha.v200 = await f.commitFiles({ "v.txt": "2.0.0-rc.1\n" }, "two rc");
    await f.tag("v2.0.0-rc.1");
    sha.dev = await f.commitFiles({ "v.txt": "dev\n" }, "dev work", { branch: "dev" });
    await f.switchTo("main");
  });
  after(async () => { await ctl?.stop(); await git?.close(); });

  const cases: Array<[string, () => object, () => string]> = [
    ["a branch", () => ({ branch: "dev" }), () => `dev@sha1:${sha.dev}`],
    ["the master default when ref is empty, failing clearly when there is no master", () => ({}), () => ""],
    ["a lightweight tag", () => ({ tag: "v1.0.0" }), () => `v1.0.0@sha1:${sha.v100}`],
    ["an annotated tag, reported at its commit", () => ({ tag: "v1.1.0" }), () => `v1.1.0@sha1:${sha.v110}`],
    ["the highest tag in a semver range", () => ({ semver: ">=1.0.0 <2.0.0" }), () => `v1.1.0@sha1:${sha.v110}`],
    ["a Masterminds-style comma range", () => ({ semver: ">= 1.0.0, < 1.1.0" }), () => `v1.0.0@sha1:${sha.v100}`],
    ["a full reference name", () => ({ name: "refs/heads/dev" }), () => `refs/heads/dev@sha1:${sha.dev}`],
    ["a bare commit", () => ({ commit: sha.first }), () => `sha1:${sha.first}`],
    ["a commit within a branch that is not its tip", () => ({ branch: "main", commit: sha.v100 }), () => `main@sha1:${sha.v100}`],
  ];
  for (const [what, ref, revision] of cases) {
    it(`checks out ${what}`, async function () {
      const ns = await newNamespace();
      await createGitRepository(ctl, ns, "r", { url: git.http!.url(), ref: ref() });
      if (!revision()) {
        const repo = await waitFor(ctl.client, ns, "r", { ready: "False", reason: "GitOperationFailed" });
        expect(repo.status!.conditions!.find((c) => c.type === "Ready")!.message).to.contain(`couldn't find remote ref "refs/heads/master"`);
        return;
      }
      const repo = await waitFor(ctl.client, ns, "r", { ready: "True", revision: revision() });
      expect(repo.status!.artifact!.path).to.match(new RegExp(`/${revision().split("sha1:")[1]}\\.tar\\.gz$`));
    });
  }
});
