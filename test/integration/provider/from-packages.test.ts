// The provider as a platform team installs it, outside this repository: `npm run package` makes
// the Node.js SDK package and the plugin archive; an empty directory gets only those (npm install
// of the SDK tarball, `pulumi plugin install resource gitops <v> --file <archive>`), a TypeScript
// program with a Bootstrap and a typed Kustomization, and runs `pulumi up`, a no-op `up` and
// `destroy` with the real CLI against the run's cluster. Nothing in that directory, its
// node_modules or the installed plugin points into the repository.
import { expect } from "chai";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { onTeardown } from "../../support/teardown";
import { fluxNamespace, getObject, gitRepo, gitRepoUser, kubeconfigText } from "./fixtures";
import { pulumiBinary, pulumiRun, repoRoot } from "./pulumi-harness";
import { canSync, withControllers } from "./sync";

const userDeps = JSON.parse(fs.readFileSync(path.join(repoRoot, "test", "integration", "provider", "user-project-deps.json"), "utf8")) as
  { dependencies: Record<string, string>; devDependencies: Record<string, string> };

const exec = promisify(execFile);
const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

const program = `import * as pulumi from "@pulumi/pulumi";
import * as gitops from "@gitops-toolkit/pulumi";

const config = new pulumi.Config();
const kubeconfig = config.requireSecret("kubeconfig");
const namespace = config.require("namespace");

const flux = new gitops.Bootstrap("flux", {
  url: config.require("gitUrl"),
  namespace,
  path: \`clusters/\${namespace}\`,
  http: { username: config.require("gitUsername"), password: config.requireSecret("gitPassword"), allowInsecureHttp: true },
  components: ["source-controller", "kustomize-controller"],
  kubeconfig,
  timeout: "2m",
});

const app = new gitops.Kustomization("app", {
  metadata: { name: "app", namespace },
  spec: { interval: "1m", path: "./apps/hello", prune: true, targetNamespace: namespace, sourceRef: { kind: "GitRepository", name: namespace } },
  kubeconfig,
  timeout: "2m",
}, { dependsOn: [flux] });

export const revision = flux.revision;
export const appliedRevision = flux.appliedRevision;
export const appRevision = app.revision;
`;

/** Runs a command; a failure or a hang (killed after 4 minutes) names the step and its output. */
async function step(name: string, file: string, args: string[], opts: { cwd: string; env?: Record<string, string> }) {
  const started = Date.now();
  try {
    return await exec(file, args, { ...opts, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 });
  } catch (e) {
    const { stdout, stderr } = e as { stdout?: string; stderr?: string };
    throw new Error(`${name} failed after ${Math.round((Date.now() - started) / 1000)} s: ${(e as Error).message}\n${stdout ?? ""}\n${stderr ?? ""}`.slice(-6000));
  }
}

/** Every file under dir (symlinks resolved) that names the repository's path. */
function filesNaming(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isSymbolicLink()) {
        if (fs.realpathSync(f).startsWith(needle)) hits.push(`${f} -> ${fs.realpathSync(f)}`);
      } else if (e.isDirectory()) walk(f);
      else if (e.isFile() && fs.statSync(f).size < 4_000_000 && fs.readFileSync(f).includes(needle)) hits.push(f);
    }
  };
  walk(dir);
  return hits;
}

let packing: Promise<string> | undefined;
/** `npm run package` once per run, into the run's directory. */
function packed(): Promise<string> {
  packing ??= (async () => {
    const dir = path.join((await pulumiRun()).root, "packages");
    await step("npm run package", "bash", [path.join(repoRoot, "scripts", "package.sh"), dir, "--no-build"], { cwd: repoRoot });
    return dir;
  })();
  return packing;
}

describe("installed from packages, outside the repository", function () {
  this.timeout(600_000);
  withControllers();
  let packages: string;
  let user: string;
  let env: Record<string, string>;
  const pulumi = (args: string[]) => step(`pulumi ${args[0]}`, pulumiBinary(), args, { cwd: user, env });

  before(async function () {
    this.timeout(600_000);
    if (!canSync()) throw new Error("this test needs our source- and kustomize-controllers (dist/cli/controllers-run.js)");
    packages = await packed();
    user = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-user-project-"));
    onTeardown(() => fs.rmSync(user, { recursive: true, force: true }));
    const home = path.join(user, ".pulumi-home");
    env = {
      HOME: process.env.HOME ?? os.homedir(),
      // node (22+) and git: nothing of the repository.
      PATH: `${path.dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      PULUMI_HOME: home,
      PULUMI_BACKEND_URL: `file://${path.join(user, ".state")}`,
      PULUMI_CONFIG_PASSPHRASE: "user",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_DISABLE_REGISTRY_RESOLVE: "true",
      PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
      PULUMI_SKIP_CONFIRMATIONS: "true",
      GITOPS_PROVIDER_LOG: path.join(user, "provider.log"),
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), ".npm"),
    };
    fs.mkdirSync(path.join(user, ".state"));
    // What a user writes: package.json, Pulumi.yaml (no plugin path), tsconfig.json, index.ts.
    fs.writeFileSync(path.join(user, "package.json"), JSON.stringify({
      name: "infra", private: true, main: "index.ts",
      dependencies: { "@gitops-toolkit/pulumi": `file:${path.join(packages, `gitops-toolkit-pulumi-${version}.tgz`)}`, ...userDeps.dependencies },
      devDependencies: userDeps.devDependencies,
    }, null, 2));
    fs.writeFileSync(path.join(user, "Pulumi.yaml"), "name: infra\nruntime: nodejs\ndescription: Flux on our cluster, from the gitops packages\n");
    fs.writeFileSync(path.join(user, "tsconfig.json"), JSON.stringify({ compilerOptions: { strict: true, target: "ES2022", module: "commonjs", moduleResolution: "node", esModuleInterop: true, skipLibCheck: true }, files: ["index.ts"] }));
    fs.writeFileSync(path.join(user, "index.ts"), program);
    // The npm registry is the one network dependency here. scripts/test.sh has warmed npm's cache
    // with these packages (where a stalled registry fetch can be retried cheaply); a stalled
    // fetch here is still retried, as a pipeline would, with npm's own fetch timeout shortened.
    const npmInstall = () => step("npm install", "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", "--fetch-timeout=60000", "--fetch-retries=4"], { cwd: user, env });
    await npmInstall().catch(() => npmInstall());
    // The archive's PulumiPlugin.yaml makes the install run npm in the plugin: it must need no
    // registry (everything is bundled), so the registry here is a closed port.
    env.npm_config_registry = "http://127.0.0.1:9/";
    await pulumi(["plugin", "install", "resource", "gitops", version, "--file", path.join(packages, `pulumi-resource-gitops-v${version}-linux-amd64.tar.gz`)]);
    delete env.npm_config_registry;
  });

  it("has packages that name no path of the repository", () => {
    expect(fs.readdirSync(packages).sort()).to.deep.equal([`gitops-sdk-go-${version}.tar.gz`, `gitops-toolkit-pulumi-${version}.tgz`, `pulumi-resource-gitops-v${version}-linux-amd64.tar.gz`, `pulumi_gitops-${version}-py3-none-any.whl`, `pulumi_gitops-${version}.tar.gz`]);
    const installed = path.join(user, ".pulumi-home", "plugins", `resource-gitops-v${version}`);
    expect(fs.existsSync(path.join(installed, "pulumi-resource-gitops"))).to.equal(true);
    expect(fs.readFileSync(path.join(installed, "PulumiPlugin.yaml"), "utf8")).to.match(/^runtime: nodejs$/m);
    expect(filesNaming(installed, repoRoot), "plugin files naming the repository").to.deep.equal([]);
    expect(filesNaming(path.join(user, "node_modules", "@gitops-toolkit"), repoRoot), "SDK files naming the repository").to.deep.equal([]);
    const sdk = JSON.parse(fs.readFileSync(path.join(user, "node_modules", "@gitops-toolkit", "pulumi", "package.json"), "utf8")) as { pulumi: Record<string, unknown> };
    expect(sdk.pulumi).to.deep.equal({ resource: true, name: "gitops", version });
  });

  it("pulumi up bootstraps and applies a typed Kustomization, a second up changes nothing, destroy removes it", async () => {
    const ns = fluxNamespace();
    const git = await gitRepo({
      files: { "apps/hello/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  greeting: hi\n" },
    });
    await pulumi(["stack", "init", "dev"]);
    for (const [k, v, secret] of [["gitUrl", git.urls.http!, false], ["gitUsername", gitRepoUser.username, false], ["gitPassword", gitRepoUser.password, true],
      ["kubeconfig", await kubeconfigText(), true], ["namespace", ns, false]] as const) {
      await pulumi(["config", "set", ...(secret ? ["--secret"] : []), k, "--", v]);
    }
    try {
      await pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    } catch (e) {
      const log = fs.existsSync(env.GITOPS_PROVIDER_LOG!) ? fs.readFileSync(env.GITOPS_PROVIDER_LOG!, "utf8").slice(-3000) : "(none)";
      throw new Error(`${(e as Error).message}\nprovider log:\n${log}`);
    }
    const outputs = JSON.parse((await pulumi(["stack", "output", "--json", "--show-secrets"])).stdout) as Record<string, string>;
    expect(outputs.appliedRevision).to.equal(`main@sha1:${outputs.revision}`);
    expect(outputs.appRevision).to.match(/^main@sha1:[0-9a-f]{40}$/);
    const cm = await getObject("v1", "ConfigMap", "hello", ns);
    expect(cm?.data).to.deep.equal({ greeting: "hi" });
    expect(await getObject("apps/v1", "Deployment", "kustomize-controller", ns)).to.not.equal(undefined);

    // The second up: the engine must find nothing to change (an error otherwise).
    const again = await pulumi(["up", "--yes", "--skip-preview", "--non-interactive", "--expect-no-changes"]);
    expect(again.stdout).to.not.match(/[1-9]\d* (to )?(create|update|replace|delete)/);

    await pulumi(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    expect(await getObject("apps/v1", "Deployment", "kustomize-controller", ns)).to.equal(undefined);
    expect(await getObject("kustomize.toolkit.fluxcd.io/v1", "Kustomization", "app", ns)).to.equal(undefined);
    await pulumi(["stack", "rm", "--yes", "dev"]);
  });
});

describe("the Python and Go SDK packages", function () {
  this.timeout(600_000);
  let packages: string;
  let work: string;
  before(async () => {
    packages = await packed();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-sdk-packages-"));
    onTeardown(() => fs.rmSync(work, { recursive: true, force: true }));
  });

  it("installs the Python wheel and sdist with pip into virtualenvs, with the plugin's metadata (pulumi itself is not on this machine's index)", async () => {
    // The python3 package.sh built with: setuptools and wheel (Debian's python3-wheel).
    const python = ["python3", "/usr/bin/python3"].find((p) => {
      try { execFileSync(p, ["-c", "import setuptools, wheel"], { stdio: "ignore" }); return true; } catch { return false; }
    });
    expect(python, "a python3 with setuptools and wheel (apt-get install python3-wheel)").to.be.a("string");
    for (const file of [`pulumi_gitops-${version}-py3-none-any.whl`, `pulumi_gitops-${version}.tar.gz`]) {
      const venv = path.join(work, `venv-${file}`);
      await step("python3 -m venv", python!, ["-m", "venv", "--system-site-packages", venv], { cwd: work });
      const py = path.join(venv, "bin", "python");
      await step(`pip install ${file}`, py, ["-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", path.join(packages, file)], { cwd: work });
      const { stdout } = await step("read metadata", py, ["-c", [
        "import importlib.metadata as m, importlib.util as u, json, pathlib, py_compile",
        "d = m.distribution('pulumi_gitops')",
        "root = pathlib.Path(u.find_spec('pulumi_gitops').submodule_search_locations[0])",
        "[py_compile.compile(str(f), doraise=True) for f in root.glob('*.py')]",
        "print(json.dumps({'version': d.version, 'requires': d.requires, 'plugin': json.loads((root / 'pulumi-plugin.json').read_text()), 'typed': (root / 'py.typed').exists(), 'inVenv': str(root).startswith(" + JSON.stringify(venv) + ")}))",
      ].join("\n")], { cwd: work });
      const meta = JSON.parse(stdout) as { version: string; requires: string[]; plugin: object; typed: boolean; inVenv: boolean };
      expect(meta, file).to.include({ version, typed: true, inVenv: true });
      expect(meta.plugin, file).to.deep.equal({ resource: true, name: "gitops", version });
      expect(meta.requires.some((r) => /^pulumi\b/.test(r)), file).to.equal(true);
    }
  });

  it("builds a Go program against the Go SDK module from its archive", async () => {
    const mod = path.join(work, "gitops-sdk-go");
    fs.mkdirSync(mod);
    await step("untar", "tar", ["-xzf", path.join(packages, `gitops-sdk-go-${version}.tar.gz`), "-C", mod], { cwd: work });
    const modulePath = /^module (\S+)$/m.exec(fs.readFileSync(path.join(mod, "go.mod"), "utf8"))?.[1];
    expect(modulePath).to.equal("github.com/gitops-toolkit/pulumi-gitops/sdk/go");
    const prog = path.join(work, "infra");
    fs.mkdirSync(prog);
    fs.writeFileSync(path.join(prog, "main.go"), `package main

import (
\t"github.com/gitops-toolkit/pulumi-gitops/sdk/go/gitops"
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"
)

func main() {
\tpulumi.Run(func(ctx *pulumi.Context) error {
\t\tcfg := config.New(ctx, "")
\t\tflux, err := gitops.NewBootstrap(ctx, "flux", &gitops.BootstrapArgs{
\t\t\tUrl:        pulumi.String("https://git.example.com/platform/fleet.git"),
\t\t\tPath:       pulumi.StringPtr("clusters/prod"),
\t\t\tKubeconfig: cfg.RequireSecret("kubeconfig"),
\t\t})
\t\tif err != nil {
\t\t\treturn err
\t\t}
\t\tctx.Export("revision", flux.Revision)
\t\treturn nil
\t})
}
`);
    // The user's go.mod: require the SDK (here replaced by the unpacked archive) and pulumi.
    fs.copyFileSync(path.join(mod, "go.sum"), path.join(prog, "go.sum"));
    const goEnv = { ...process.env, GOTOOLCHAIN: "local", CGO_ENABLED: "0", GOFLAGS: "-modcacherw -buildvcs=false -mod=mod" } as Record<string, string>;
    const go = (args: string[]) => step(`go ${args[0]}`, "go", args, { cwd: prog, env: goEnv });
    await go(["mod", "init", "example.com/infra"]);
    await go(["mod", "edit", `-require=${modulePath}@v${version}`, `-replace=${modulePath}=${mod}`,
      "-replace=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e"]);
    await go(["mod", "tidy"]);
    await go(["build", "-o", path.join(work, "infra-bin"), "."]);
    expect(fs.statSync(path.join(work, "infra-bin")).size).to.be.greaterThan(1_000_000);
  });
});
