// gitops: the product's command line. Subcommands are added by later features
// (controllers run, install --export, ...).
import * as path from "node:path";
import * as devCluster from "./dev-cluster";
import { componentVersions, repoRoot } from "./tools";
import { UsageError } from "./errors";
import { REAL_NODE, trustRegistry } from "./real-node";

const VERSION = (require(path.join(repoRoot, "package.json")) as { version: string }).version;

const REAL_NODE_IP = REAL_NODE.ip;
const USAGE = `usage: gitops <command>

commands:
  dev-cluster up [--dir D] [--port P] [--real-node] [--insecure-registry HOST:PORT]...
                                        start the embedded cluster (etcd, kube-apiserver,
                                        kube-controller-manager, kube-scheduler, kwok) on loopback;
                                        --real-node: a real kubelet + containerd node that runs pods
                                        (root; API on ${REAL_NODE_IP}), pulling from the plain-HTTP
                                        registries named by --insecure-registry
  dev-cluster down [--dir D]            stop it and remove its data
  dev-cluster status [--dir D]          show whether it runs and where its kubeconfig is
  controllers run --kubeconfig K [--only source] [--storage-path P] [--storage-addr A]
                  [--storage-adv-addr A] [--concurrent N] [--kube-api-qps Q] [--kube-api-burst B]
                  [--log-level L] [--watch-all-namespaces] [--enable-leader-election] ...
                                        run the controllers as local processes
  check [--kubeconfig K] [--namespace N] the installation's health: controller pods Ready, restarts,
                                        images, CRDs established (like flux check); exit 1 if not
  version                               print the version of gitops and its pinned components
`;

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) {
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new UsageError(`--${name} needs a value`);
    return v;
  }
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

export { UsageError };

const defaultClusterDir = () => process.env.GITOPS_DEV_CLUSTER_DIR ?? path.join(repoRoot, ".gitops", "dev-cluster");

async function devClusterCmd(args: string[]): Promise<number> {
  const dir = path.resolve(flag(args, "dir") ?? defaultClusterDir());
  switch (args[0]) {
    case "up": {
      const portArg = flag(args, "port");
      const apiPort = portArg === undefined ? undefined : Number(portArg);
      if (apiPort !== undefined && !(Number.isInteger(apiPort) && apiPort > 0 && apiPort < 65536)) {
        throw new UsageError(`--port must be a TCP port number (1-65535), got '${portArg}'`);
      }
      const t0 = Date.now();
      const realNode = args.includes("--real-node");
      const registries = args.flatMap((a, i) => (a === "--insecure-registry" ? [args[i + 1]] : a.startsWith("--insecure-registry=") ? [a.slice(20)] : []));
      if (registries.some((r) => !r || !/^[\w.-]+(:\d+)?$/.test(r))) throw new UsageError("--insecure-registry needs a registry host[:port], e.g. 127.0.0.1:5000");
      if (registries.length && !realNode) throw new UsageError("--insecure-registry applies to the real node: add --real-node");
      const state = await devCluster.up({ dir, apiPort, realNode, log: (m) => console.error(`[dev-cluster] ${m}`) });
      for (const r of registries) trustRegistry(dir, r);
      console.log(`dev cluster ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      console.log(`  API server: ${state.server}`);
      console.log(`  kubeconfig: ${state.kubeconfig}`);
      console.log(`  export KUBECONFIG=${state.kubeconfig}`);
      return 0;
    }
    case "down": {
      const stopped = await devCluster.down(dir);
      console.log(stopped ? `dev cluster in ${dir} stopped and removed` : `no dev cluster was running in ${dir}; data removed`);
      return 0;
    }
    case "status": {
      const s = await devCluster.status(dir);
      if (!s.state) { console.log(`no dev cluster in ${dir}`); return 1; }
      console.log(`dev cluster in ${dir}: ${s.ready ? "ready" : s.running ? "running, not ready" : "stopped (stale data; run 'gitops dev-cluster down')"}`);
      console.log(`  API server: ${s.state.server}`);
      console.log(`  kubeconfig: ${s.state.kubeconfig}`);
      for (const [name, up] of Object.entries(s.processes)) console.log(`  ${name}: ${up ? "running" : "stopped"} (pid ${s.state.pids[name]})`);
      return s.ready ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown dev-cluster command '${args[0] ?? ""}'; use up, down or status`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case "dev-cluster": return await devClusterCmd(rest);
      case "version": case "--version":
        console.log(`gitops ${VERSION}`);
        for (const [name, v] of Object.entries(componentVersions())) console.log(`  ${name} ${v}`);
        return 0;
      case undefined: case "help": case "--help": case "-h":
        console.log(USAGE);
        return cmd === undefined ? 2 : 0;
      default: {
        const sub = await import("./commands").then((m) => m.commands[cmd]).catch(() => undefined);
        if (sub) return await sub(rest);
        throw new UsageError(`unknown command '${cmd}'`);
      }
    }
  } catch (err) {
    if (err instanceof UsageError) { console.error(`gitops: ${err.message}\n\n${USAGE}`); return 2; }
    console.error(`gitops: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
