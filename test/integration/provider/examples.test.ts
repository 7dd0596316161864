// The examples run for real: bootstrap-local and multi-tenant through their Pulumi.yaml with the
// nodejs language host (as `pulumi up` in their folder would run them), automation-api through
// its exported pipeline function.
import { expect } from "chai";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import { randomSuffix } from "../../support/cluster";
import { onTeardown } from "../../support/teardown";
import { fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { compileExamples, pulumiRun, repoRoot } from "./pulumi-harness";
import { canSync, withControllers } from "./sync";

/**
 * A stack of an example project: its Pulumi.yaml copied to a scratch dir with the relative paths
 * made absolute (so stack config files do not land in the repository).
 */
async function exampleStack(name: string, config: Record<string, { value: string; secret?: boolean }>) {
  compileExamples();
  const r = await pulumiRun();
  const src = path.join(repoRoot, "examples", name);
  const project = parse(fs.readFileSync(path.join(src, "Pulumi.yaml"), "utf8")) as { main: string; plugins: { providers: { path: string }[] } };
  project.main = path.resolve(src, project.main);
  for (const p of project.plugins.providers) p.path = path.resolve(src, p.path);
  const workDir = fs.mkdtempSync(path.join(r.root, `example-${name}-`));
  fs.writeFileSync(path.join(workDir, "Pulumi.yaml"), stringify(project));
  const stackName = `ex${randomSuffix()}`;
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { pulumiCommand: r.cmd, pulumiHome: r.home, envVars: r.env, secretsProvider: "passphrase" });
  await stack.setAllConfig(config);
  let destroyed = false;
  onTeardown(async () => {
    if (!destroyed) await stack.destroy().catch(() => undefined);
  });
  return {
    stack,
    async destroy() {
      await stack.destroy();
      destroyed = true;
    },
  };
}

describe("examples", function () {
  this.timeout(400_000);
  withControllers();

  it("bootstrap-local: pulumi up through the language host bootstraps and reaches the pushed revision", async () => {
    const git = await gitRepo();
    const { stack, destroy } = await exampleStack("bootstrap-local", {
      gitUrl: { value: git.urls.http! },
      gitUsername: { value: gitRepoUser.username },
      gitPassword: { value: gitRepoUser.password, secret: true },
      kubeconfig: { value: await kubeconfigText(), secret: true },
      clusterPath: { value: `clusters/${fluxNamespace()}` },
      wait: { value: String(canSync()) },
    });
    const res = await stack.up();
    expect(res.outputs.files!.value).to.have.length(3);
    if (canSync()) expect(res.outputs.appliedRevision!.value).to.equal(`main@sha1:${res.outputs.revision!.value}`);
    const ks = await getObject<{ spec: { template: { spec: { containers: { args: string[] }[] } } } }>("apps/v1", "Deployment", "kustomize-controller", "flux-system");
    expect(ks!.spec.template.spec.containers[0]!.args).to.include("--concurrent=8");
    await destroy();
  });

  it("multi-tenant: tenants' Kustomizations reconcile as their ServiceAccounts into their namespaces", async function () {
    const r = await pulumiRun();
    if (!r.hasKubernetesPlugin) this.skip();
    const git = await gitRepo({
      files: {
        "README.md": "# fleet\n",
        "clusters/dev/.keep": "",
        "tenants/team-a/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: team-config}\ndata: {owner: team-a}\n",
        "tenants/team-b/config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: team-config}\ndata: {owner: team-b}\n",
      },
    });
    const { stack, destroy } = await exampleStack("multi-tenant", {
      gitUrl: { value: git.urls.http! },
      gitUsername: { value: gitRepoUser.username },
      gitPassword: { value: gitRepoUser.password, secret: true },
      kubeconfig: { value: await kubeconfigText(), secret: true },
    });
    if (!canSync()) this.skip();
    const res = await stack.up();
    const revisions = res.outputs.tenantRevisions!.value as Record<string, string>;
    expect(Object.keys(revisions).sort()).to.deep.equal(["team-a", "team-b"]);
    for (const t of ["team-a", "team-b"]) {
      expect(revisions[t]).to.match(/^main@sha1:/);
      const cm = await getObject<{ data: Record<string, string> }>("v1", "ConfigMap", "team-config", t);
      expect(cm!.data.owner).to.equal(t);
    }
    await destroy();
  });

  it("automation-api: the pipeline function runs up and destroy with an inline program", async () => {
    compileExamples();
    const git = await gitRepo();
    const r = await pulumiRun();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { pipeline } = require(path.join(repoRoot, "dist", "examples", "automation-api", "index.js")) as typeof import("../../../examples/automation-api/index");
    const opts = {
      gitUrl: git.urls.http!,
      gitUsername: gitRepoUser.username,
      gitPassword: gitRepoUser.password,
      kubeconfig: await kubeconfigText(),
      stateDir: path.join(r.root, `pipeline-${randomSuffix()}`),
      pulumiHome: r.home,
      wait: canSync(),
    };
    const up = await pipeline("up", opts);
    expect(up.revision).to.match(/^[0-9a-f]{40}$/);
    const again = await pipeline("preview", opts);
    expect((again.changes as Record<string, number>).same).to.be.greaterThan(0);
    await pipeline("destroy", opts);
    expect(await getObject("apps/v1", "Deployment", "source-controller", "flux-system")).to.equal(undefined);
  });
});
