// The real node of the embedded cluster (`dev-cluster up --real-node`): containerd + runc run the
// pods, a real kubelet of the API server's version registers the node, the CNI bridge plugin
// wires pods to a host bridge, kube-proxy (iptables) makes Services work and CoreDNS answers
// *.svc.cluster.local. Everything is a host process of the cluster's data dir, started and stopped
// with the rest; `down` also kills the pods' containers and removes the mounts, network
// namespaces, cgroups, bridge and iptables chains they left. Needs root (see docs/real-node.md).
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { promises as dns } from "node:dns";
import * as path from "node:path";
import { clientCert, ClusterPki } from "./certs";

/** The node's fixed network: one real node per machine, on its own bridge. */
export const REAL_NODE = {
  name: "gitops-node-0",
  bridge: "gitops0",
  /** The bridge's address: the node IP, the API server's address, the pods' gateway and DNS server. */
  ip: "10.244.0.1",
  podSubnet: "10.244.0.0/24",
  clusterCidr: "10.244.0.0/16",
  pauseImage: "gitops.local/pause:3.10",
  /** kube-proxy's own endpoints (its defaults), on loopback: one real-node cluster per machine. */
  proxyHealthzPort: 10256,
  proxyMetricsPort: 10249,
} as const;

/** kube-proxy (iptables mode) has written the DNAT rule of a Service's cluster IP. */
export function serviceRuleProgrammed(clusterIp: string): boolean {
  const r = spawnSync("iptables", ["-w", "5", "-t", "nat", "-S", "KUBE-SERVICES"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.includes(`-d ${clusterIp}/32`);
}

/** Resolves a name with the node's cluster DNS (CoreDNS on the node IP), as a pod would. */
export async function resolveViaNodeDns(name: string): Promise<string | undefined> {
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([REAL_NODE.ip]);
  return (await resolver.resolve4(name).catch(() => [] as string[]))[0];
}

/** Debian packages the node runs (containerd, runc, CNI plugins, iptables, conntrack). */
const HOST_NEEDS: Array<[string, string]> = [
  ["containerd", "containerd"], ["ctr", "containerd"], ["runc", "runc"], ["iptables", "iptables"],
  ["conntrack", "conntrack"], ["/usr/lib/cni/bridge", "containernetworking-plugins"],
  ["/usr/lib/cni/host-local", "containernetworking-plugins"], ["/usr/lib/cni/portmap", "containernetworking-plugins"],
  ["/usr/lib/cni/loopback", "containernetworking-plugins"],
];
export const HOST_PACKAGES = "containerd runc containernetworking-plugins iptables conntrack";

function onPath(bin: string): boolean {
  if (bin.startsWith("/")) return fs.existsSync(bin);
  return (process.env.PATH ?? "").split(":").concat("/usr/sbin", "/sbin").some((d) => fs.existsSync(path.join(d, bin)));
}

/** Fails with what to install or fix, before anything starts. */
export function checkHost(): void {
  if (process.getuid?.() !== 0) throw new Error("the real node needs root: containerd, the kubelet and the pod network (bridge, iptables) change the host; run as root or omit --real-node");
  const missing = HOST_NEEDS.filter(([bin]) => !onPath(bin));
  if (missing.length) {
    throw new Error(`the real node needs ${missing.map(([b]) => path.basename(b)).join(", ")}, not found: ` +
      `apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")}`);
  }
  const bridgeUp = spawnSync("ip", ["link", "show", REAL_NODE.bridge], { stdio: "ignore" }).status === 0;
  if (bridgeUp) throw new Error(`bridge ${REAL_NODE.bridge} exists: another real-node cluster runs on this machine (only one can), or a killed one left it; run 'gitops dev-cluster down' for it, or 'ip link del ${REAL_NODE.bridge}'`);
}

function run(cmd: string, args: string[], what = `${cmd} ${args.join(" ")}`): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${what} failed: ${(r.stderr || r.stdout || r.error?.message || "").trim()}`);
  return r.stdout;
}

function sysctl(key: string, value: string): void {
  fs.writeFileSync(`/proc/sys/${key.replace(/\./g, "/")}`, value);
}

/** The bridge with the node IP, before the API server binds to it; forwarding and bridge netfilter on. */
export function prepareNetwork(): void {
  run("ip", ["link", "add", REAL_NODE.bridge, "type", "bridge"]);
  run("ip", ["addr", "add", `${REAL_NODE.ip}/24`, "dev", REAL_NODE.bridge]);
  run("ip", ["link", "set", REAL_NODE.bridge, "up"]);
  sysctl("net.ipv4.ip_forward", "1");
  // kube-proxy's DNAT must see pod-to-pod traffic that crosses the bridge (a Service backed by a pod on the same node).
  sysctl("net.bridge.bridge-nf-call-iptables", "1");
}

export interface NodeFiles {
  containerdConfig: string; containerdSock: string; kubeletConfig: string; kubeletKubeconfig: string;
  proxyConfig: string; corefile: string; registriesDir: string;
}

function kubeconfig(server: string, caCert: string, cert: string, key: string): string {
  return `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}", certificate-authority: "${caCert}"}}]
users: [{name: u, user: {client-certificate: "${cert}", client-key: "${key}"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`;
}

/** Writes the node's configuration under `<dir>/node`. Paths stay short: containerd's sockets have a 108-byte limit. */
export function writeNodeConfig(dir: string, server: string, pki: ClusterPki, adminKubeconfig: string): NodeFiles {
  const nd = path.join(dir, "node");
  for (const d of ["cni", "registries", "kubelet", "containerd"]) fs.mkdirSync(path.join(nd, d), { recursive: true });
  const pkiDir = path.dirname(pki.caCert);
  const node = clientCert(pkiDir, "kubelet", `/O=system:nodes/CN=system:node:${REAL_NODE.name}`);
  const proxy = clientCert(pkiDir, "kube-proxy", "/CN=system:kube-proxy");
  const f: NodeFiles = {
    containerdConfig: path.join(nd, "containerd.toml"), containerdSock: path.join(nd, "containerd", "sock"),
    kubeletConfig: path.join(nd, "kubelet.yaml"), kubeletKubeconfig: path.join(nd, "kubelet.kubeconfig"),
    proxyConfig: path.join(nd, "kube-proxy.yaml"), corefile: path.join(nd, "Corefile"),
    registriesDir: path.join(nd, "registries"),
  };
  const runcWrapper = negativeOomScoreRefused() ? writeRuncWrapper(nd) : undefined;
  fs.writeFileSync(f.containerdConfig, `version = 2
root = "${nd}/containerd/root"
state = "${nd}/containerd/state"
[grpc]
  address = "${f.containerdSock}"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${REAL_NODE.pauseImage}"
${runcWrapper ? `  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      BinaryName = "${runcWrapper}"
` : ""}  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${nd}/cni"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "${f.registriesDir}"
`);
  fs.writeFileSync(path.join(nd, "cni", "10-gitops.conflist"), JSON.stringify({
    cniVersion: "0.4.0", name: "gitops",
    plugins: [
      { type: "bridge", bridge: REAL_NODE.bridge, isGateway: true, ipMasq: true, hairpinMode: true,
        ipam: { type: "host-local", ranges: [[{ subnet: REAL_NODE.podSubnet, gateway: REAL_NODE.ip }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: path.join(nd, "cni", "ipam") } },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  }, null, 2));
  fs.writeFileSync(f.kubeletKubeconfig, kubeconfig(server, pki.caCert, node.cert, node.key), { mode: 0o600 });
  const proxyKubeconfig = path.join(nd, "kube-proxy.kubeconfig");
  fs.writeFileSync(proxyKubeconfig, kubeconfig(server, pki.caCert, proxy.cert, proxy.key), { mode: 0o600 });
  fs.writeFileSync(f.kubeletConfig, `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This VM has the hybrid cgroup hierarchy (v1 controllers); Kubernetes 1.35+ refuses v1 unless told.
failCgroupV1: false
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://${f.containerdSock}
address: ${REAL_NODE.ip}
port: 10250
readOnlyPort: 0
healthzPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: "${pki.caCert}"}
authorization: {mode: Webhook}
clusterDNS: ["${REAL_NODE.ip}"]
clusterDomain: cluster.local
resolvConf: ""
failSwapOn: false
hairpinMode: hairpin-veth
serializeImagePulls: false
registerNode: true
maxPods: 110
# A dev node shares the machine with the tests: no evictions, no image GC of the images it was given.
evictionHard: {}
enforceNodeAllocatable: []
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
`);
  fs.writeFileSync(f.proxyConfig, `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: "${proxyKubeconfig}"}
mode: iptables
clusterCIDR: ${REAL_NODE.clusterCidr}
hostnameOverride: ${REAL_NODE.name}
bindAddress: ${REAL_NODE.ip}
healthzBindAddress: 127.0.0.1:${REAL_NODE.proxyHealthzPort}
metricsBindAddress: 127.0.0.1:${REAL_NODE.proxyMetricsPort}
conntrack: {maxPerCore: 0}
`);
  // A host process on the node IP (the kubelet's clusterDNS). Admin credentials: a dev cluster has no CoreDNS RBAC.
  fs.writeFileSync(f.corefile, `.:53 {
  bind ${REAL_NODE.ip}
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig ${adminKubeconfig}
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  cache 5
}
`);
  return f;
}

/**
 * Whether this host refuses a negative oom_score_adj even to root (some VMs' kernels do: writing
 * -998 gives EIO). The kubelet asks -998 for every pod sandbox and -997 for Guaranteed pods; runc
 * then fails with "can't get final child's PID from pipe: EOF".
 */
export function negativeOomScoreRefused(): boolean {
  return spawnSync("sh", ["-c", "echo -1 > /proc/self/oom_score_adj"], { stdio: "ignore" }).status !== 0;
}

/** runc behind a wrapper that asks for oom_score_adj 0 where the kubelet asked for a negative one. */
function writeRuncWrapper(nodeDir: string): string {
  const p = path.join(nodeDir, "runc");
  fs.writeFileSync(p, `#!/bin/sh
# Written by gitops dev-cluster --real-node: this host refuses negative oom_score_adj (see cli/real-node.ts).
prev=""
for a in "$@"; do
  if [ "$prev" = "--bundle" ] && [ -f "$a/config.json" ]; then sed -i 's/"oomScoreAdj":-[0-9]*/"oomScoreAdj":0/' "$a/config.json"; fi
  prev=$a
done
exec runc "$@"
`, { mode: 0o755 });
  return p;
}

/** Lets the node pull from a plain-HTTP registry (e.g. the local one at 127.0.0.1:<port>); read by containerd on each pull. */
export function trustRegistry(dir: string, host: string): void {
  const d = path.join(dir, "node", "registries", host);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, "hosts.toml"), `server = "http://${host}"\n[host."http://${host}"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`);
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/**
 * The pod sandbox image, made from the `pause` binary setup-tools built, as an OCI archive that
 * `ctr images import` loads (no registry has registry.k8s.io/pause here). Same binary, same digest.
 */
export function importPauseImage(dir: string, pauseBin: string, sock: string): void {
  const work = path.join(dir, "node", "pause-image");
  fs.rmSync(work, { recursive: true, force: true });
  const blobs = path.join(work, "oci", "blobs", "sha256");
  fs.mkdirSync(path.join(work, "rootfs"), { recursive: true });
  fs.mkdirSync(blobs, { recursive: true });
  fs.copyFileSync(pauseBin, path.join(work, "rootfs", "pause"));
  fs.chmodSync(path.join(work, "rootfs", "pause"), 0o755);
  const tarArgs = ["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "--format=posix", "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime"];
  const layer = execFileSync("tar", [...tarArgs, "-C", path.join(work, "rootfs"), "-cf", "-", "pause"], { maxBuffer: 64 << 20 });
  const put = (b: Buffer): string => { const d = sha256(b); fs.writeFileSync(path.join(blobs, d), b); return d; };
  const layerDigest = put(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: "amd64", os: "linux",
    config: { Entrypoint: ["/pause"], User: "65535:65535" },
    rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
  }));
  const configDigest = put(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: `sha256:${configDigest}`, size: config.length },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: layer.length }],
  }));
  const manifestDigest = put(manifest);
  fs.writeFileSync(path.join(work, "oci", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(path.join(work, "oci", "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${manifestDigest}`, size: manifest.length,
      annotations: { "io.containerd.image.name": REAL_NODE.pauseImage, "org.opencontainers.image.ref.name": "3.10" } }],
  }));
  const archive = path.join(work, "pause.tar");
  execFileSync("tar", [...tarArgs, "-C", path.join(work, "oci"), "-cf", archive, "."]);
  run("ctr", ["--address", sock, "-n", "k8s.io", "images", "import", archive], "importing the pause image into containerd");
}

// ---- teardown ----

function procs(): Array<{ pid: number; ppid: number; cmdline: string }> {
  const out: Array<{ pid: number; ppid: number; cmdline: string }> = [];
  for (const e of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      out.push({ pid: Number(e), ppid, cmdline: fs.readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0/g, " ") });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** The containerd shims of this node (they outlive containerd) and every process under them: the pods' containers. */
function killPods(sock: string): void {
  const all = procs();
  const shims = all.filter((p) => p.cmdline.includes("containerd-shim") && p.cmdline.includes(sock)).map((p) => p.pid);
  const doomed = new Set(shims);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) if (!doomed.has(p.pid) && doomed.has(p.ppid)) { doomed.add(p.pid); grew = true; }
  }
  for (const pid of doomed) { try { process.kill(pid, "SIGKILL"); } catch { /* gone */ } }
}

/** Unmounts everything mounted under these prefixes, deepest first (overlays, secrets' tmpfs, netns). */
function unmountUnder(prefixes: string[]): void {
  for (let pass = 0; pass < 3; pass++) {
    const points = fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
      .map((l) => l.split(" ")[4]).filter((m): m is string => !!m && prefixes.some((p) => m === p || m.startsWith(p + "/")))
      .sort((a, b) => b.length - a.length);
    if (points.length === 0) return;
    for (const m of points) spawnSync("umount", ["-l", m], { stdio: "ignore" });
  }
}

/** Deletes the iptables chains with these prefixes (kube-proxy's KUBE-*, the CNI plugins' CNI-*) and the jumps to them. */
function dropChains(prefixes: string[]): void {
  for (const table of ["nat", "filter", "mangle"]) {
    const r = spawnSync("iptables", ["-t", table, "-S"], { encoding: "utf8" });
    if (r.status !== 0) continue;
    const lines = r.stdout.split("\n");
    const ours = (c: string) => prefixes.some((p) => c.startsWith(p));
    for (const l of lines) {
      const m = /^-A (\S+) (.*-j (\S+).*)$/.exec(l);
      if (m && !ours(m[1]) && ours(m[3])) spawnSync("iptables", ["-t", table, "-D", m[1], ...splitRule(m[2])], { stdio: "ignore" });
    }
    const chains = lines.map((l) => /^-N (\S+)$/.exec(l)?.[1]).filter((c): c is string => !!c && ours(c));
    for (const c of chains) spawnSync("iptables", ["-t", table, "-F", c], { stdio: "ignore" });
    for (const c of chains) spawnSync("iptables", ["-t", table, "-X", c], { stdio: "ignore" });
  }
}

/** `iptables -S` quotes comments with spaces; split the rest on spaces. */
function splitRule(rule: string): string[] {
  const out: string[] = [];
  for (const m of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) out.push(m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]);
  return out;
}

/** Removes the cgroups the kubelet made (kubepods*), leaves first, once their processes are gone. */
function removeCgroups(): void {
  const rmTree = (d: string): void => {
    let entries: fs.Dirent[] = [];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries) if (e.isDirectory()) rmTree(path.join(d, e.name));
    try { fs.rmdirSync(d); } catch { /* busy or gone */ }
  };
  let roots: string[] = [];
  try { roots = fs.readdirSync("/sys/fs/cgroup").map((c) => path.join("/sys/fs/cgroup", c)); } catch { return; }
  for (const root of roots) {
    for (const name of ["kubepods", "kubepods.slice"]) {
      const d = path.join(root, name);
      if (fs.existsSync(d)) for (let i = 0; i < 5 && fs.existsSync(d); i++) rmTree(d);
    }
  }
}

/** After the node's processes are stopped: what the pods and the network left behind. */
export function cleanupNode(dir: string): void {
  const nd = path.join(dir, "node");
  const sock = path.join(nd, "containerd", "sock");
  killPods(sock);
  // The network namespaces containerd made for this node's pods (bind mounts under /run/netns, named in the sandboxes' state).
  const netns = new Set<string>();
  try {
    for (const l of fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
      const m = l.split(" ")[4];
      if (m && /^\/(var\/)?run\/netns\/cni-/.test(m) && sandboxUsesNetns(nd, m)) netns.add(m);
    }
  } catch { /* none */ }
  unmountUnder([nd, ...netns]);
  for (const n of netns) fs.rmSync(n, { force: true });
  removeCgroups();
  dropChains(["KUBE-", "CNI-"]);
  spawnSync("ip", ["link", "del", REAL_NODE.bridge], { stdio: "ignore" });
}

function sandboxUsesNetns(nodeDir: string, netnsPath: string): boolean {
  // containerd records each sandbox's netns path in its metadata db; a cheap, exact check is a grep of that file.
  const db = path.join(nodeDir, "containerd", "root", "io.containerd.metadata.v1.bolt", "meta.db");
  try { return fs.readFileSync(db).includes(Buffer.from(path.basename(netnsPath))); } catch { return false; }
}
