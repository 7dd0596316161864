// `gitops install --export`: prints the install manifests (CRDs, Namespace, RBAC, controllers,
// Services, NetworkPolicies) rendered by the provider's own code; no cluster or network needed.
// Without --export it applies them to the cluster of --kubeconfig (or KUBECONFIG) with
// server-side apply, CRDs and Namespace first, and waits for the controllers.
import type { InstallOptions } from "../provider/args/install";
import { renderInstall } from "../provider/manifests/install";
import { toYamlDocuments } from "../provider/manifests/objects";
import { flag, UsageError } from "./main";

export const INSTALL_USAGE = `usage: gitops install [--export] [options]

  --export                     print the manifests instead of applying them
  --crds-only                  only the CustomResourceDefinitions (e.g. before running the
                               controllers as local processes)
  --namespace NS               controllers' namespace (flux-system)
  --components a,b             source-controller,kustomize-controller,helm-controller,notification-controller
  --version vX.Y.Z             controller image tag (the toolkit's version)
  --registry R                 image registry prefix
  --image-pull-secret NAME     pull Secret set on the controller pods
  --cluster-domain D           cluster DNS domain (cluster.local)
  --network-policy=false       leave out the NetworkPolicies
  --watch-all-namespaces=false restrict the controllers to their namespace
  --log-level info|debug|error
  --toleration-keys k1,k2      tolerate these taints (operator Exists)
  --kubeconfig FILE            (without --export) cluster to install to; KUBECONFIG by default
  --context NAME               (without --export) kubeconfig context
  --timeout 5m                 (without --export) how long to wait for the controllers
`;

function boolFlag(args: string[], name: string): boolean | undefined {
  if (args.includes(`--${name}`)) return true;
  const v = flag(args, name);
  if (v === undefined) return undefined;
  if (v === "true" || v === "false") return v === "true";
  throw new UsageError(`--${name} must be true or false, got '${v}'`);
}

function list(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean);
}

export function installOptionsFromArgs(args: string[]): InstallOptions {
  return {
    namespace: flag(args, "namespace"),
    components: list(flag(args, "components")) as InstallOptions["components"],
    version: flag(args, "version"),
    registry: flag(args, "registry"),
    imagePullSecret: flag(args, "image-pull-secret"),
    clusterDomain: flag(args, "cluster-domain"),
    networkPolicy: boolFlag(args, "network-policy"),
    watchAllNamespaces: boolFlag(args, "watch-all-namespaces"),
    logLevel: flag(args, "log-level") as InstallOptions["logLevel"],
    tolerationKeys: list(flag(args, "toleration-keys")),
  };
}

export async function installCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(INSTALL_USAGE);
    return 0;
  }
  const opts = installOptionsFromArgs(args);
  let rendered;
  try {
    rendered = renderInstall(opts);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const objects = args.includes("--crds-only") ? rendered.objects.filter((o) => o.kind === "CustomResourceDefinition") : rendered.objects;
  if (args.includes("--export")) {
    process.stdout.write(toYamlDocuments(objects));
    return 0;
  }
  const { installToCluster } = await import("../provider/cluster/install-apply");
  const result = await installToCluster(objects, {
    kubeconfig: flag(args, "kubeconfig"),
    context: flag(args, "context"),
    timeout: flag(args, "timeout") ?? "5m",
    log: (m) => console.error(m),
  });
  console.log(args.includes("--crds-only")
    ? `installed ${result.applied} CustomResourceDefinitions`
    : `installed ${result.applied} objects in namespace ${rendered.options.namespace}; controllers: ${rendered.options.components.join(", ")}`);
  return 0;
}
