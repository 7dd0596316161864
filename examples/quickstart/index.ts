/**
 * The quickstart (the top-level Pulumi.yaml runs this): bootstrap the controllers into a cluster
 * from a git repository, then declare a typed Kustomization for the sample app and wait until
 * the controllers have applied it.
 *
 * Config (set by scripts/quickstart.sh):
 *   gitUrl         repository URL (the local git server)         required
 *   gitUsername    basic-auth user                               default "gitops"
 *   gitPassword    basic-auth password (secret)                  required
 *   kubeconfig     path (or contents) of the cluster's kubeconfig required
 *   clusterPath    directory of this cluster in the repository   default "clusters/dev"
 */
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap, Kustomization } from "../../provider";

const config = new pulumi.Config();
const clusterPath = config.get("clusterPath") ?? "clusters/dev";

const flux = new Bootstrap("flux", {
  url: config.require("gitUrl"),
  path: clusterPath,
  http: { username: config.get("gitUsername") ?? "gitops", password: config.requireSecret("gitPassword"), allowInsecureHttp: true },
  kubeconfig: config.require("kubeconfig"),
  // Our controllers that run today (as local processes on the embedded cluster).
  components: ["source-controller", "kustomize-controller"],
  timeout: "3m",
});

// The sample app, as a typed resource: applied by the kustomize-controller from the same
// repository (the bootstrap's GitRepository), awaited until Ready.
const hello = new Kustomization("hello", {
  metadata: { namespace: flux.namespace },
  spec: {
    interval: "1m",
    path: "./apps/hello",
    prune: true,
    wait: true,
    timeout: "2m",
    sourceRef: { kind: "GitRepository", name: flux.namespace },
  },
  kubeconfig: config.require("kubeconfig"),
  timeout: "3m",
}, { dependsOn: [flux] });

export const repositoryRevision = flux.revision;
export const appliedRevision = flux.appliedRevision;
export const bootstrapFiles = flux.files.apply((f) => Object.keys(f));
export const helloRevision = hello.revision;
export const helloInventory = hello.status.apply((s) => (s?.inventory?.entries ?? []).map((e) => e.id));
