// `npm run quickstart` as a new user runs it, with a tool cache that holds only what the
// quickstart's own entry in cli/tool-needs.json declares (links into the real cache) and builds
// forbidden (GITOPS_SETUP_CHECK_ONLY): a tool the quickstart uses but does not declare fails here
// instead of being hidden by a warm cache. Then `destroy` leaves nothing running.
import { expect } from "chai";
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { onTeardown } from "../../support/teardown";
import { compileExamples, repoRoot } from "../provider/pulumi-harness";

const exec = promisify(execFile);
const realTools = process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools");
const setup = path.join(repoRoot, "scripts", "setup-tools.sh");

/** A tools directory with links to just the files `setup-tools.sh --files <command>` names. */
function toolsFor(command: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gitops-tools-${command}-`));
  onTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const files = execFileSync("bash", [setup, "--files", command], { env: { ...process.env, GITOPS_TOOLS: realTools }, encoding: "utf8" }).split("\n").filter(Boolean);
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.symlinkSync(path.join(realTools, f), path.join(dir, f));
  }
  return dir;
}

function quickstart(args: string[], tools: string, state: string) {
  return exec("bash", [path.join(repoRoot, "scripts", "quickstart.sh"), ...args], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 480_000,
    env: {
      // A user's shell: the machine's PATH without the tool cache; the repo's node_modules/.bin not on it.
      PATH: (process.env.PATH ?? "").split(":").filter((p) => !p.startsWith(realTools) && !p.includes("node_modules")).join(":"),
      HOME: process.env.HOME ?? os.homedir(),
      GITOPS_TOOLS: tools,
      GITOPS_SETUP_CHECK_ONLY: "1",
      GITOPS_QUICKSTART_DIR: state,
      GITOPS_QUICKSTART_SKIP_BUILD: "1",
      npm_config_cache: process.env.npm_config_cache ?? path.join(os.homedir(), ".npm"),
    },
  });
}

describe("npm run quickstart with only the tools it declares", function () {
  this.timeout(900_000);
  let state: string;
  let tools: string;

  before(() => {
    compileExamples();
    tools = toolsFor("quickstart");
    state = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-quickstart-"));
    onTeardown(async () => {
      if (fs.existsSync(state)) await quickstart(["destroy"], tools, state).catch(() => undefined);
      fs.rmSync(state, { recursive: true, force: true });
    });
  });

  it("declares no tool the test suite alone needs", () => {
    const listed = execFileSync("bash", [setup, "--list", "quickstart"], { encoding: "utf8" }).trim().split(" ");
    expect(listed).to.include.members(["etcd", "kubernetes", "kwok", "kustomize", "pulumi", "pulumi_host"]);
    expect(listed).to.not.include.members(["flux", "gofakes3", "kustomize_controller"]);
  });

  it("fails naming the tool when one it declares is missing, and builds nothing", async () => {
    const partial = toolsFor("quickstart");
    fs.rmSync(path.join(partial, "bin", "kustomize"));
    const err = await quickstart(["up"], partial, fs.mkdtempSync(path.join(os.tmpdir(), "gitops-quickstart-missing-"))).then(() => undefined, (e: Error & { stderr?: string }) => e);
    expect(err, "the quickstart ran without kustomize").to.not.equal(undefined);
    expect(err!.stderr).to.match(/not built yet in .*: kustomize \(needed by quickstart\)/);
    expect(fs.existsSync(path.join(partial, "bin", "kustomize"))).to.equal(false);
  });

  it("runs up end to end (bootstrap, sample app, no-op second up), then destroy stops everything", async () => {
    const up = await quickstart(["up"], tools, state).catch((e: Error & { stdout?: string; stderr?: string }) => {
      const logs = fs.existsSync(path.join(state, "logs")) ? fs.readdirSync(path.join(state, "logs")).map((f) => `--- ${f}\n${fs.readFileSync(path.join(state, "logs", f), "utf8").slice(-2000)}`).join("\n") : "";
      throw new Error(`quickstart up failed: ${e.message}\n${e.stdout ?? ""}\n${(e.stderr ?? "").slice(-4000)}\n${logs}`);
    });
    expect(up.stdout).to.match(/flux-system Kustomization applied main@sha1:[0-9a-f]{40}/);
    expect(up.stdout).to.match(/hello Kustomization applied main@sha1:[0-9a-f]{40}/);
    expect(up.stdout).to.match(/Deployment\.apps \S+\/hello/);
    expect(up.stdout).to.match(/quickstart \d+\.\d s in all/);
    const kubeconfig = path.join(state, "cluster", "kubeconfig");
    expect(fs.existsSync(kubeconfig)).to.equal(true);

    await quickstart(["destroy"], tools, state);
    expect(fs.existsSync(state), "destroy removes the quickstart's state").to.equal(false);
  });
});
