import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { alive, readState, up, down } from "../../../cli/dev-cluster";
import { repoRoot } from "../../../cli/tools";
import { eventually, reapStaleRuns } from "../../support/cluster";

const exec = promisify(execFile);
const gitops = path.join(repoRoot, "bin", "gitops");

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await exec(gitops, args, { env: { ...process.env, ...env }, timeout: 120000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? 1, out: (x.stdout ?? "") + (x.stderr ?? "") };
  }
}

describe("dev cluster: bad input and faults", function () {
  this.timeout(180000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-devcluster-"));
  after(async () => { await down(dir); });

  it("refuses a port that is already taken, with a message that says what to do", async function () {
    const blocker = net.createServer().listen(0, "127.0.0.1");
    await new Promise((r) => blocker.once("listening", r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await run(["dev-cluster", "up", "--dir", dir, "--port", String(port)]);
      expect(r.code).to.equal(1);
      expect(r.out).to.contain(`port ${port} on 127.0.0.1 is already in use; choose another --port or omit it`);
      expect(readState(dir)).to.equal(undefined);
    } finally { blocker.close(); }
  });

  it("rejects a malformed --port", async function () {
    const r = await run(["dev-cluster", "up", "--dir", dir, "--port", "http"]);
    expect(r.code).to.equal(2);
    expect(r.out).to.contain("--port must be a TCP port number (1-65535), got 'http'");
  });

  it("starts, reports status, refuses a second start, recovers from a crash (stale data) and stops", async function () {
    const first = await run(["dev-cluster", "up", "--dir", dir]);
    expect(first.code, first.out).to.equal(0);
    expect(first.out).to.match(/dev cluster ready in [\d.]+s/);
    const status = await run(["dev-cluster", "status", "--dir", dir]);
    expect(status.code).to.equal(0);
    expect(status.out).to.contain("ready");
    const again = await run(["dev-cluster", "up", "--dir", dir]);
    expect(again.code).to.equal(1);
    expect(again.out).to.contain("a dev cluster is already running from");

    // Crash: every process killed, data left behind.
    const state = readState(dir)!;
    for (const pid of Object.values(state.pids)) process.kill(pid, "SIGKILL");
    await eventually(() => Object.values(state.pids).every((p) => !alive(p)), { what: "processes dead" });
    const stale = await run(["dev-cluster", "status", "--dir", dir]);
    expect(stale.out).to.contain("stale data");
    const recovered = await run(["dev-cluster", "up", "--dir", dir]);
    expect(recovered.code, recovered.out).to.equal(0);

    const stopped = await run(["dev-cluster", "down", "--dir", dir]);
    expect(stopped.out).to.contain("stopped and removed");
    expect(fs.existsSync(dir)).to.equal(false);
    expect(Object.values(readState(dir)?.pids ?? {})).to.deep.equal([]);
  });

  it("stops the cluster of a test run interrupted with SIGINT, and reaps one killed with SIGKILL", async function () {
    for (const signal of ["SIGINT", "SIGKILL"] as const) {
      const child = spawn("npx", ["mocha", "--require", "dist/test/support/hooks.js", "dist/test/fixtures/interrupted-run.fixture.js"],
        { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      const clusterDir = await eventually(() => /CLUSTER_DIR=(\S+)/.exec(out)?.[1], { timeoutMs: 90000, what: "child cluster up" });
      const pids = Object.values(readState(clusterDir)!.pids);
      expect(pids.every(alive)).to.equal(true);
      const exited = new Promise((r) => child.once("exit", r));
      // npx runs mocha in a child: signal the whole process group, as a terminal's Ctrl-C does.
      process.kill(-child.pid!, signal);
      await exited;
      if (signal === "SIGKILL") {
        expect(pids.some(alive), "cluster survives a SIGKILLed run until the next run reaps it").to.equal(true);
      }
      // npx has exited, but the mocha it started may take a moment to die; only then is the run stale.
      await eventually(async () => {
        if (signal === "SIGKILL") await reapStaleRuns();
        return pids.every((p) => !alive(p)) && !fs.existsSync(path.join(clusterDir, "cluster.json"));
      },
        { timeoutMs: 30000, what: `cluster of the ${signal} run stopped and removed` });
    }
  });

  it("never caches a half-built tool: a failed build leaves nothing behind and says why", async function () {
    const tools = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-tools-"));
    try {
      const r = await exec("bash", [path.join(repoRoot, "scripts/setup-tools.sh"), "kwok"],
        { env: { ...process.env, GITOPS_TOOLS: tools, KWOK_V: "v0.0.0-does-not-exist" }, timeout: 120000 }).then(() => ({ code: 0, out: "" }),
        (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }));
      expect(r.code).to.not.equal(0);
      expect(r.out).to.contain("building kwok failed");
      expect(r.out).to.contain("Nothing was cached for it; re-run to retry.");
      expect(fs.existsSync(path.join(tools, "bin", "kwok"))).to.equal(false);
      expect(fs.readdirSync(path.join(tools, "bin"))).to.deep.equal([]);
    } finally { fs.rmSync(tools, { recursive: true, force: true }); }
  });

  it("never caches a tool whose build dies half-way or whose binary does not run", async function () {
    // A stand-in `go` first on PATH: it writes part of a binary where `go install` would put it,
    // then fails (or, with FAKE_GO_EXIT=0, "succeeds" and leaves a binary that cannot run).
    const tools = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-tools-"));
    const fakeBin = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-fakego-"));
    const realGo = (await exec("sh", ["-c", "command -v go"])).stdout.trim();
    fs.writeFileSync(path.join(fakeBin, "go"), [
      "#!/bin/sh",
      `case "$1" in env) exec ${realGo} "$@";; esac`,
      'printf "\\177ELF-truncated" > "$GOBIN/kwok"; chmod +x "$GOBIN/kwok"',
      'echo "go: killed while linking" >&2',
      'exit "${FAKE_GO_EXIT:-1}"',
    ].join("\n") + "\n", { mode: 0o755 });
    try {
      for (const exit of ["1", "0"]) {
        const r = await exec("bash", [path.join(repoRoot, "scripts/setup-tools.sh"), "kwok"],
          { env: { ...process.env, PATH: `${fakeBin}:${process.env.PATH}`, GITOPS_TOOLS: tools, FAKE_GO_EXIT: exit }, timeout: 120000 })
          .then(() => ({ code: 0, out: "" }), (e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr }));
        expect(r.code, `fake go exiting ${exit}`).to.not.equal(0);
        expect(r.out).to.contain("building kwok failed");
        expect(fs.readdirSync(path.join(tools, "bin")), `fake go exiting ${exit}`).to.deep.equal([]);
      }
    } finally {
      fs.rmSync(tools, { recursive: true, force: true });
      fs.rmSync(fakeBin, { recursive: true, force: true });
    }
  });

  it("prints its own version and the cached components' versions", async function () {
    const r = await run(["version"]);
    expect(r.code).to.equal(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect(r.out).to.contain(`gitops ${pkg.version}`);
    const stamp = fs.readFileSync(path.join(process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache/gitops-tools"), "bin", ".kube-apiserver.version"), "utf8").trim();
    expect(r.out).to.match(new RegExp(`kube-apiserver ${stamp.replace(/\./g, "\\.")}`));
  });
});
