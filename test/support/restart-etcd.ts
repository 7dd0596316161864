// Restarts the etcd of an extra cluster (extra-cluster.ts; restartApiServer there does the same
// for kube-apiserver): SIGKILL, as a crashed or OOM-killed etcd, `downMs` with nothing
// listening, then the same command line over the same data directory; resolves once /health
// answers and the API server serves reads again.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import * as devCluster from "../../cli/dev-cluster";
import { eventually } from "./cluster";
import type { ExtraCluster } from "./extra-cluster";

function etcdHealthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(`http://127.0.0.1:${port}/health`, { timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on("error", () => resolve(false));
    req.on("timeout", () => { req.destroy(); resolve(false); });
  });
}

export async function restartEtcd(cluster: ExtraCluster, downMs: number): Promise<void> {
  const { state } = cluster;
  const pid = state.pids.etcd;
  const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  try { process.kill(-pid, "SIGKILL"); } catch { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }
  await eventually(() => !devCluster.alive(pid), { timeoutMs: 10_000, what: "etcd killed" });
  await new Promise((r) => setTimeout(r, downMs));
  const log = fs.openSync(path.join(state.dir, "logs", "etcd.log"), "a");
  const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  child.unref();
  state.pids.etcd = child.pid!;
  // The state file names the new process, so `down` (and the reaper) stops it.
  fs.writeFileSync(path.join(state.dir, "cluster.json"), JSON.stringify(state, null, 2));
  await eventually(() => etcdHealthy(state.etcdPort), { timeoutMs: 30_000, intervalMs: 250, what: "etcd healthy again" });
  await eventually(async () => (await devCluster.apiRequest(state, "GET", "/readyz")).status === 200, { timeoutMs: 60_000, intervalMs: 250, what: "kube-apiserver ready after the etcd restart" });
}
