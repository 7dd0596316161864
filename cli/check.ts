// `gitops check`: like `flux check`, the health of an installation as the cluster sees it: each
// controller Deployment's pods (Ready, restarts, the waiting reason when not), its image, and
// whether the toolkit's CRDs are established. Exit 0 only when all is healthy.
import { Cluster } from "../provider/cluster/client";
import { UsageError } from "./errors";

interface Deployment { metadata: { name: string; labels?: Record<string, string> }; spec: { replicas?: number; selector: { matchLabels?: Record<string, string> }; template: { spec: { containers: { image: string }[] } } }; status?: { readyReplicas?: number } }
interface Pod {
  metadata: { name: string };
  status?: {
    phase?: string; conditions?: { type: string; status: string }[];
    containerStatuses?: { restartCount: number; state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string } } }[];
  };
}
interface Crd { metadata: { name: string }; spec: { group: string }; status?: { conditions?: { type: string; status: string }[] } }

export async function checkCommand(args: string[]): Promise<number> {
  let kubeconfig = process.env.KUBECONFIG;
  let namespace = "flux-system";
  for (let i = 0; i < args.length; i++) {
    const [k, inline] = args[i].split("=", 2);
    const value = () => { const v = inline ?? args[++i]; if (!v) throw new UsageError(`${k} needs a value`); return v; };
    if (k === "--kubeconfig") kubeconfig = value();
    else if (k === "--namespace" || k === "-n") namespace = value();
    else throw new UsageError(`unknown flag '${args[i]}' for check; use --kubeconfig K [--namespace N]`);
  }
  const cluster = new Cluster(kubeconfig ? { kubeconfig } : {});
  try {
    await cluster.ping();
    let healthy = true;
    const deployments = (await cluster.list<Deployment>("apps/v1", "Deployment", { namespace, labelSelector: "app.kubernetes.io/part-of=flux" }))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    if (deployments.length === 0) { console.log(`✗ no toolkit controllers in namespace ${namespace}`); return 1; }
    console.log(`► checking controllers in ${namespace}`);
    for (const d of deployments) {
      const want = d.spec.replicas ?? 1;
      const sel = Object.entries(d.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
      const pods = await cluster.list<Pod>("v1", "Pod", { namespace, labelSelector: sel });
      const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
      const restarts = pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + c.restartCount, 0), 0);
      const why = pods.flatMap((p) => (p.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason ? `${p.metadata.name}: ${c.state.waiting.reason}${c.state.waiting.message ? ` (${c.state.waiting.message})` : ""}` : "")).filter(Boolean);
      const ok = ready.length >= want;
      healthy &&= ok;
      console.log(`${ok ? "✔" : "✗"} ${d.metadata.name.padEnd(26)} ${ok ? "ready" : "not ready"} ${ready.length}/${want} pods, ${restarts} restarts, ${d.spec.template.spec.containers[0]?.image ?? ""}${why.length ? `; ${why.join("; ")}` : ""}`);
    }
    const crds = (await cluster.list<Crd>("apiextensions.k8s.io/v1", "CustomResourceDefinition", { labelSelector: "app.kubernetes.io/part-of=flux" }));
    const notEstablished = crds.filter((c) => !c.status?.conditions?.some((x) => x.type === "Established" && x.status === "True"));
    healthy &&= crds.length > 0 && notEstablished.length === 0;
    console.log(`${crds.length > 0 && notEstablished.length === 0 ? "✔" : "✗"} ${crds.length} CRDs${notEstablished.length ? `, not established: ${notEstablished.map((c) => c.metadata.name).join(", ")}` : " established"}`);
    console.log(healthy ? "✔ all checks passed" : "✗ some checks failed");
    return healthy ? 0 : 1;
  } finally {
    cluster.close();
  }
}
