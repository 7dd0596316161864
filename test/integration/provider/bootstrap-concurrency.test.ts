// Concurrent writers to one repository: two clusters bootstrapping at once (two stacks, two
// paths), and eight writers racing on the provider's git code; every push lands on a linear
// history through rebase-and-retry, and nothing is lost.
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../../provider";
import { writeFiles } from "../../../provider/git/session";
import { runGit } from "../../support/git-server";
import { startExtraCluster } from "../../support/extra-cluster";
import { startControllers } from "./controllers";
import { filesAt, fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
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

  it("bootstraps two clusters at once into one repository, each syncing only its own path", async () => {
    // Cluster A is the test run's cluster (a namespace of its own); cluster B is a second embedded
    // cluster with its own controllers, bootstrapped into flux-system as a real cluster would be.
    const git = await gitRepo();
    const clusterB = await startExtraCluster("cluster-b");
    const controllersB = canSync() ? await startControllers(clusterB.state.kubeconfig) : undefined;
    try {
      const make = (name: string, ns: string, kubeconfig: string) =>
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
      const nsA = fluxNamespace();
      const [a, b] = await Promise.all([
        make("a", nsA, await kubeconfigText()),
        make("b", "flux-system", clusterB.kubeconfig),
      ]);
      const [ra, rb] = await Promise.all([a.up(), b.up()]);
      const all = { ...(ra.outputs.files as Record<string, string>), ...(rb.outputs.files as Record<string, string>) };
      expect(Object.keys(all).some((p) => p.startsWith("clusters/a/"))).to.equal(true);
      expect(Object.keys(all).some((p) => p.startsWith("clusters/b/"))).to.equal(true);
      const inGit = await filesAt(git, Object.keys(all));
      for (const [p, content] of Object.entries(all)) expect(inGit[p], p).to.equal(content);
      const merges = await runGit(["--git-dir", git.barePath, "rev-list", "--merges", "--count", "main"], { env: git.fixture.env });
      expect(merges, "both pushes land on a linear history").to.equal("0");
      // Each cluster's root Kustomization syncs its own path, and neither cluster has the other's install.
      const apiB = k8s.KubernetesObjectApi.makeApiClient(clusterB.kc);
      const syncB = await apiB.read({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "flux-system", namespace: "flux-system" } }) as { spec: { path: string } };
      expect(syncB.spec.path).to.equal("./clusters/b");
      const syncA = await getObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", nsA, nsA);
      expect(syncA?.spec?.path).to.equal("./clusters/a");
      const nsAinB = await apiB.read({ apiVersion: "v1", kind: "Namespace", metadata: { name: nsA } }).then(() => true, () => false);
      expect(nsAinB, "cluster B holds nothing of cluster A").to.equal(false);
      if (canSync()) {
        // Each waits for its own pushed commit; the other's later push may be what it applied.
        for (const r of [ra, rb]) {
          const applied = String(r.outputs.appliedRevision).replace(/^main@sha1:/, "");
          await runGit(["--git-dir", git.barePath, "merge-base", "--is-ancestor", String(r.outputs.revision), applied], { env: git.fixture.env });
        }
      }
      await Promise.all([a.destroy(), b.destroy()]);
    } finally {
      await controllersB?.stop();
      await clusterB.stop();
    }
  });
});
