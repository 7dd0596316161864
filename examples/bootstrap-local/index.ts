/**
 * Bootstrap on the embedded cluster from a local git server: the controllers are installed and
 * reconcile themselves (and everything under `clusterPath`) from the repository.
 *
 *   node dist/cli/main.js dev-cluster up                                   # the cluster
 *   node dist/provider/dev/git-server.js --root .gitops/git \
 *       --seed fleet.git=examples/quickstart/repo --password secret &      # the git server
 *   cd examples/bootstrap-local && pulumi stack init dev
 *   pulumi config set gitUrl http://127.0.0.1:<port>/fleet.git
 *   pulumi config set --secret gitPassword secret
 *   pulumi config set kubeconfig $PWD/../../.gitops/dev-cluster/kubeconfig
 *   pulumi up
 */
import * as pulumi from "@pulumi/pulumi";
import { Bootstrap } from "../../provider";

const config = new pulumi.Config();

const flux = new Bootstrap("flux", {
  url: config.require("gitUrl"),
  branch: config.get("branch") ?? "main",
  path: config.get("clusterPath") ?? "clusters/dev",
  http: {
    username: config.get("gitUsername") ?? "gitops",
    password: config.requireSecret("gitPassword"),
    allowInsecureHttp: true, // the local server speaks plain http
  },
  kubeconfig: config.requireSecret("kubeconfig"),
  components: config.getObject<("source-controller" | "kustomize-controller" | "helm-controller" | "notification-controller")[]>("components")
    ?? ["source-controller", "kustomize-controller"],
  // Typed customisation: written into kustomization.yaml as patches, applied the same way by Flux.
  customisation: { extraArgs: { "kustomize-controller": ["--concurrent=8"] } },
  wait: config.getBoolean("wait") ?? true,
  timeout: "3m",
});

export const revision = flux.revision;
export const appliedRevision = flux.appliedRevision;
export const files = flux.files.apply((f) => Object.keys(f));
