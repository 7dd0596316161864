// The embedded cluster: real etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
// kwok (simulated nodes and pods), all on loopback with free ports. No container ever runs:
// kwok marks scheduled pods Running/Ready, so Deployments become Available and Jobs complete.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as http from "node:http";
import * as path from "node:path";
import { makePki, ClusterPki } from "./certs";
import { freePort, portInUse } from "./ports";
import { tool, requireTools } from "./tools";
import * as realNode from "./real-node";

export interface ClusterState {
  dir: string;
  kubeconfig: string;
  server: string;
  etcdPort: number;
  apiPort: number;
  ownerPid: number;
  pids: Record<string, number>;
  /** A real kubelet + containerd node instead of kwok's (`--real-node`). */
  realNode?: boolean;
  startedAt: string;
}

const STATE_FILE = "cluster.json";
const NODE_NAME = "kwok-node-0";
/** The first address of --service-cluster-ip-range: the kubernetes Service. */
const KUBERNETES_SERVICE_IP = "10.96.0.1";

export function readState(dir: string): ClusterState | undefined {
  try { return JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as ClusterState; } catch { return undefined; }
}

/** Whether the process runs; a zombie (exited, not yet reaped by its new parent) counts as gone. */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (e) { return (e as NodeJS.ErrnoException).code === "EPERM"; }
  try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8")); } catch { return false; }
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

function startProcess(dir: string, name: string, bin: string, args: string[]): number {
  const log = fs.openSync(path.join(dir, "logs", `${name}.log`), "a");
  // Own process group, so 'down' (from any process) stops it and its children together.
  const child = spawn(bin, args, { detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${name} (${bin})`);
  return child.pid;
}

function logTail(dir: string, name: string, lines = 15): string {
  try {
    const all = fs.readFileSync(path.join(dir, "logs", `${name}.log`), "utf8").trimEnd().split("\n");
    return all.slice(-lines).join("\n");
  } catch { return "(no log)"; }
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, onFail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}\n${onFail()}`);
}

function httpGetOk(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => { res.resume(); resolve(res.statusCode === 200); });
    req.on("error", () => resolve(false));
    req.on("timeout", () => { req.destroy(); resolve(false); });
  });
}

/** An HTTPS request to the API server as the admin user. */
export function apiRequest(state: ClusterState, method: string, urlPath: string, body?: unknown, contentType = "application/json"): Promise<{ status: number; body: string }> {
  const pkiDir = path.join(state.dir, "pki");
  return new Promise((resolve, reject) => {
    const req = https.request(state.server + urlPath, {
      method, timeout: 5000,
      ca: fs.readFileSync(path.join(pkiDir, "ca.crt")),
      cert: fs.readFileSync(path.join(pkiDir, "admin.crt")),
      key: fs.readFileSync(path.join(pkiDir, "admin.key")),
      headers: body === undefined ? {} : { "content-type": contentType },
    }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    if (body !== undefined) req.write(typeof body === "string" ? body : JSON.stringify(body));
    req.end();
  });
}

function kubeconfigYaml(server: string, pki: ClusterPki, contextName: string): string {
  const b64 = (f: string) => fs.readFileSync(f).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: ${contextName}
  cluster:
    server: ${server}
    certificate-authority-data: ${b64(pki.caCert)}
users:
- name: ${contextName}-admin
  user:
    client-certificate-data: ${b64(pki.adminCert)}
    client-key-data: ${b64(pki.adminKey)}
contexts:
- name: ${contextName}
  context:
    cluster: ${contextName}
    user: ${contextName}-admin
current-context: ${contextName}
`;
}

export interface UpOptions {
  dir: string;
  /** Fixed API server port (default: a free one). */
  apiPort?: number;
  contextName?: string;
  log?: (msg: string) => void;
  /** Run pods for real: containerd, runc, kubelet, kube-proxy, CoreDNS (cli/real-node.ts); needs root. */
  realNode?: boolean;
  /** Write the API server's audit log of toolkit objects' writes (their request bodies, no status) here (JSON lines). */
  auditLog?: string;
}

/** Audit policy: the request body of every write to a toolkit kind's main resource; nothing else. */
const toolkitAuditPolicy = (groups: string[]): string => JSON.stringify({
  apiVersion: "audit.k8s.io/v1", kind: "Policy", omitStages: ["RequestReceived", "ResponseStarted"],
  rules: [
    { level: "None", resources: groups.map((group) => ({ group, resources: ["*/status", "*/finalizers"] })) },
    { level: "Request", verbs: ["create", "update", "patch"], resources: groups.map((group) => ({ group })) },
    { level: "None" },
  ],
});

/**
 * Starts the cluster and returns once /readyz answers, a kwok node is Ready and the
 * controller-manager has created the default ServiceAccount. A stale data dir left by a
 * killed run is cleaned first.
 */
export async function up(opts: UpOptions): Promise<ClusterState> {
  const { dir } = opts;
  const log = opts.log ?? (() => undefined);
  const existing = readState(dir);
  if (existing && Object.values(existing.pids).some(alive)) {
    throw new Error(`a dev cluster is already running from ${dir} (API ${existing.server}); run 'gitops dev-cluster down' first or use another --dir`);
  }
  if (fs.existsSync(dir)) {
    if (existing) log(`removing stale cluster data in ${dir}`);
    await down(dir);
  }
  const real = opts.realNode === true;
  if (real) { realNode.checkHost(); requireTools("real-node"); } else requireTools("dev-cluster");
  const bins = {
    etcd: tool("etcd"), apiserver: tool("kube-apiserver"), cm: tool("kube-controller-manager"),
    scheduler: tool("kube-scheduler"), kwok: tool("kwok"),
  };
  fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
  const pki = makePki(path.join(dir, "pki"), real ? [realNode.REAL_NODE.ip] : []);
  // A real node's pods reach the API server through the `kubernetes` Service: it must listen on the node's bridge, not loopback.
  const apiHost = real ? realNode.REAL_NODE.ip : "127.0.0.1";

  if (opts.apiPort !== undefined && (await portInUse(opts.apiPort))) {
    throw new Error(`port ${opts.apiPort} on 127.0.0.1 is already in use; choose another --port or omit it to pick a free one`);
  }
  const etcdPort = await freePort();
  const etcdPeerPort = await freePort();
  const apiPort = opts.apiPort ?? (await freePort());
  const server = `https://${apiHost}:${apiPort}`;
  const state: ClusterState = {
    dir, kubeconfig: path.join(dir, "kubeconfig"), server, etcdPort, apiPort,
    ownerPid: process.pid, pids: {}, startedAt: new Date().toISOString(), ...(real ? { realNode: true } : {}),
  };
  const save = () => fs.writeFileSync(path.join(dir, STATE_FILE), JSON.stringify(state, null, 2));
  save();
  fs.writeFileSync(state.kubeconfig, kubeconfigYaml(server, pki, opts.contextName ?? "gitops-dev"), { mode: 0o600 });

  try {
    if (real) realNode.prepareNetwork();
    state.pids.etcd = startProcess(dir, "etcd", bins.etcd, [
      `--data-dir=${path.join(dir, "etcd")}`, "--name=gitops-dev",
      `--listen-client-urls=http://127.0.0.1:${etcdPort}`, `--advertise-client-urls=http://127.0.0.1:${etcdPort}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
      `--initial-cluster=gitops-dev=http://127.0.0.1:${etcdPeerPort}`,
      "--unsafe-no-fsync", "--log-level=warn", "--listen-metrics-urls=",
    ]);
    save();
    await waitFor("etcd /health", 20000, () => httpGetOk(`http://127.0.0.1:${etcdPort}/health`), () => logTail(dir, "etcd"));
    log(`etcd ready on 127.0.0.1:${etcdPort}`);

    state.pids.apiserver = startProcess(dir, "kube-apiserver", bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      `--secure-port=${apiPort}`, `--bind-address=${apiHost}`, `--advertise-address=${apiHost}`,
      // the API server's own requests to kubelets (logs, exec) as the admin
      `--kubelet-client-certificate=${pki.adminCert}`, `--kubelet-client-key=${pki.adminKey}`,
      `--tls-cert-file=${pki.serverCert}`, `--tls-private-key-file=${pki.serverKey}`,
      `--client-ca-file=${pki.caCert}`,
      "--authorization-mode=Node,RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.saPub}`, `--service-account-signing-key-file=${pki.saKey}`,
      "--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
      `--cert-dir=${path.join(dir, "pki")}`, "--profiling=false", "--v=1",
      ...(opts.auditLog ? auditArgs(dir, opts.auditLog) : []),
    ]);
    save();
    await waitFor("kube-apiserver /readyz", 60000,
      async () => (await apiRequest(state, "GET", "/readyz")).status === 200,
      () => logTail(dir, "kube-apiserver"));
    log(`kube-apiserver ready at ${server}`);

    state.pids.controllerManager = startProcess(dir, "kube-controller-manager", bins.cm, [
      `--kubeconfig=${state.kubeconfig}`, "--leader-elect=false", "--secure-port=0",
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.caCert}`,
      "--use-service-account-credentials=true",
      `--cluster-signing-cert-file=${pki.caCert}`, `--cluster-signing-key-file=${pki.caKey}`,
      "--service-cluster-ip-range=10.96.0.0/16", "--controllers=*",
      "--concurrent-gc-syncs=5", "--v=1",
    ]);
    state.pids.scheduler = startProcess(dir, "kube-scheduler", bins.scheduler, [
      `--kubeconfig=${state.kubeconfig}`, "--leader-elect=false", "--secure-port=0", "--v=1",
    ]);
    if (real) {
      await startRealNode(state, pki, save, log);
    } else {
      state.pids.kwok = startProcess(dir, "kwok", bins.kwok, [
        `--kubeconfig=${state.kubeconfig}`, "--manage-all-nodes=true",
        "--node-lease-duration-seconds=40",
      ]);
      save();
      await createNode(state);
      await waitFor(`node ${NODE_NAME} Ready (kwok)`, 30000, () => nodeReady(state, NODE_NAME), () => logTail(dir, "kwok"));
    }
    await waitFor("default ServiceAccount (kube-controller-manager)", 30000,
      async () => (await apiRequest(state, "GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
      () => logTail(dir, "kube-controller-manager"));
    log(`kube-controller-manager, kube-scheduler and ${real ? `the real node ${realNode.REAL_NODE.name} (containerd, kubelet, kube-proxy, CoreDNS)` : "kwok"} running`);
    return state;
  } catch (err) {
    await down(dir, { keepLogs: true });
    throw err;
  }
}

async function createNode(state: ClusterState): Promise<void> {
  const node = {
    apiVersion: "v1", kind: "Node",
    metadata: {
      name: NODE_NAME,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: { "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok" },
    },
    status: {
      allocatable: { cpu: "32", memory: "256Gi", pods: "1000" },
      capacity: { cpu: "32", memory: "256Gi", pods: "1000" },
      nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "fake", kubeProxyVersion: "fake" },
    },
  };
  const res = await apiRequest(state, "POST", "/api/v1/nodes", node);
  if (res.status !== 201 && res.status !== 409) throw new Error(`creating node ${NODE_NAME}: HTTP ${res.status} ${res.body}`);
}

/** containerd, the pause image, the kubelet, kube-proxy and CoreDNS; returns once the node is Ready and DNS answers. */
async function startRealNode(state: ClusterState, pki: ClusterPki, save: () => void, log: (m: string) => void): Promise<void> {
  const { dir } = state;
  const f = realNode.writeNodeConfig(dir, state.server, pki, state.kubeconfig);
  state.pids.containerd = startProcess(dir, "containerd", "containerd", ["--config", f.containerdConfig, "--log-level", "warn"]);
  save();
  await waitFor("containerd socket", 20000, async () => fs.existsSync(f.containerdSock), () => logTail(dir, "containerd"));
  realNode.importPauseImage(dir, tool("pause"), f.containerdSock);
  state.pids.kubelet = startProcess(dir, "kubelet", tool("kubelet"), [
    `--config=${f.kubeletConfig}`, `--kubeconfig=${f.kubeletKubeconfig}`,
    `--hostname-override=${realNode.REAL_NODE.name}`, `--node-ip=${realNode.REAL_NODE.ip}`,
    `--root-dir=${path.join(dir, "node", "kubelet")}`, `--cert-dir=${path.join(dir, "node", "kubelet", "pki")}`, "--v=1",
  ]);
  state.pids.kubeProxy = startProcess(dir, "kube-proxy", tool("kube-proxy"), [`--config=${f.proxyConfig}`, "--v=1"]);
  state.pids.coredns = startProcess(dir, "coredns", tool("coredns"), ["-conf", f.corefile]);
  save();
  const running = (name: keyof ClusterState["pids"], log: string) => {
    const pid = state.pids[name];
    if (!pid || !alive(pid)) throw new Error(`${log} exited during start-up\n${logTail(dir, log)}`);
  };
  await waitFor(`node ${realNode.REAL_NODE.name} Ready (kubelet)`, 60000, async () => { running("kubelet", "kubelet"); return nodeReady(state, realNode.REAL_NODE.name); }, () => logTail(dir, "kubelet"));
  // Without kube-proxy's rules a pod's connection to the kubernetes Service leaves the node and
  // meets whatever the host's network does with 10.96.0.1 (here: a TLS-intercepting egress proxy).
  await waitFor("kube-proxy's rule for the kubernetes Service", 30000, async () => {
    running("kubeProxy", "kube-proxy");
    return realNode.serviceRuleProgrammed(KUBERNETES_SERVICE_IP);
  }, () => logTail(dir, "kube-proxy"));
  await waitFor("CoreDNS answering kubernetes.default.svc.cluster.local", 30000, async () => {
    running("coredns", "coredns");
    return (await realNode.resolveViaNodeDns("kubernetes.default.svc.cluster.local")) === KUBERNETES_SERVICE_IP;
  }, () => logTail(dir, "coredns"));
  log(`node ${realNode.REAL_NODE.name} Ready at ${realNode.REAL_NODE.ip}; Services and cluster DNS answer`);
}

async function nodeReady(state: ClusterState, node: string): Promise<boolean> {
  const res = await apiRequest(state, "GET", `/api/v1/nodes/${node}`);
  if (res.status !== 200) return false;
  const conds: Array<{ type: string; status: string }> = JSON.parse(res.body).status?.conditions ?? [];
  return conds.some((c) => c.type === "Ready" && c.status === "True");
}

/** Stops every process of the cluster in `dir` (even one left by a killed run) and removes its data. */
export async function down(dir: string, opts: { keepLogs?: boolean } = {}): Promise<boolean> {
  const state = readState(dir);
  let stopped = false;
  if (state) {
    // Reverse start order: clients first, etcd last.
    const order = ["coredns", "kubeProxy", "kubelet", "containerd", "kwok", "scheduler", "controllerManager", "apiserver", "etcd"];
    for (const name of order) {
      const pid = state.pids[name];
      if (pid && alive(pid)) {
        try { process.kill(-pid, "SIGTERM"); } catch { try { process.kill(pid, "SIGTERM"); } catch { /* gone */ } }
        stopped = true;
      }
    }
    const deadline = Date.now() + 10000;
    while (Date.now() < deadline && Object.values(state.pids).some(alive)) await sleep(50);
    for (const pid of Object.values(state.pids)) {
      if (alive(pid)) { try { process.kill(-pid, "SIGKILL"); } catch { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } } }
    }
  }
  // The pods' containers outlive containerd (shims); their mounts, netns, cgroups and the bridge go too.
  if (state?.realNode) realNode.cleanupNode(dir);
  if (opts.keepLogs) {
    for (const sub of ["etcd", "pki", "node", STATE_FILE, "kubeconfig"]) fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
  } else {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return stopped;
}

export async function status(dir: string): Promise<{ running: boolean; state?: ClusterState; ready: boolean; processes: Record<string, boolean> }> {
  const state = readState(dir);
  if (!state) return { running: false, ready: false, processes: {} };
  const processes = Object.fromEntries(Object.entries(state.pids).map(([n, p]) => [n, alive(p)]));
  const running = Object.values(processes).some(Boolean);
  let ready = false;
  if (running) ready = await apiRequest(state, "GET", "/readyz").then((r) => r.status === 200, () => false);
  return { running, state, ready, processes };
}

function auditArgs(dir: string, logPath: string): string[] {
  const policy = path.join(dir, "audit-policy.json");
  const groups = ["source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io", "helm.toolkit.fluxcd.io", "notification.toolkit.fluxcd.io",
    "image.toolkit.fluxcd.io", "source.extensions.fluxcd.io"];
  fs.writeFileSync(policy, toolkitAuditPolicy(groups));
  return [`--audit-policy-file=${policy}`, `--audit-log-path=${logPath}`, "--audit-log-format=json", "--audit-log-maxbackup=0", "--audit-log-maxsize=0"];
}
