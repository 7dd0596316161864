/**
 * The Pulumi package schema of `gitops`, generated from the same schema values as the CRDs and
 * the TypeScript types: components (Bootstrap, Install), the deploy-time resources behind them
 * (BootstrapGit, InstallManifests) and one typed resource per Flux kind.
 */
import { T, type SchemaProps } from "../../controllers/api/schema";
import { bootstrapOptionsProps } from "../args/bootstrap";
import { installManifestsProps } from "../resources/install-manifests";
import { sshKeyPairArgs } from "../resources/ssh-key-pair";
import { typedKinds, typedResourceProps } from "../resources/kinds";
import { PackageName, ProviderVersion } from "../version";
import { TypeRegistry, type PulumiPropertySpec } from "./convert";

interface ResourceSpec {
  description?: string;
  isComponent?: boolean;
  inputProperties: Record<string, PulumiPropertySpec>;
  requiredInputs?: string[];
  properties: Record<string, PulumiPropertySpec>;
  required?: string[];
}

const secretInputs = new Set(["kubeconfig", "ssh", "http", "registryCredentials"]);

function inputs(reg: TypeRegistry, owner: string, schema: SchemaProps): Pick<ResourceSpec, "inputProperties" | "requiredInputs"> {
  const props = reg.properties(owner, schema);
  for (const [k, p] of Object.entries(props)) if (secretInputs.has(k)) p.secret = true;
  if (props.namespace && owner !== "FluxObject") props.namespace.willReplaceOnChanges = true;
  return { inputProperties: props, ...(schema.required?.length ? { requiredInputs: schema.required } : {}) };
}

const str = (description: string): PulumiPropertySpec => ({ type: "string", description });

/** Outputs of a bootstrap (component and resource alike). */
function bootstrapOutputs(): Record<string, PulumiPropertySpec> {
  return {
    revision: str("The commit that holds the bootstrap files (the pushed one, or the tip when nothing changed)."),
    appliedRevision: str("The revision the root Kustomization applied, `<branch>@sha1:<commit>`; empty until the cluster is in sync."),
    files: { type: "object", additionalProperties: { type: "string" }, description: "The files the provider manages in git: repository path → content." },
    publicKey: str("Public key of the SSH key (generated or given), to register as a deploy key."),
    knownHosts: str("known_hosts used for an ssh:// URL (given, or scanned on first use)."),
    namespace: str("Namespace of the installation."),
  };
}

export function buildSchema(): Record<string, unknown> {
  const reg = new TypeRegistry();
  const resources: Record<string, ResourceSpec> = {};
  const tok = (n: string) => `${PackageName}:index:${n}`;

  const bootstrapArgs = T.Object(bootstrapOptionsProps);
  resources[tok("Bootstrap")] = {
    description: "Installs the controllers and makes them reconcile themselves from git: writes `<path>/<namespace>/gotk-components.yaml`, `gotk-sync.yaml` and `kustomization.yaml` (Flux's layout), pushes them, applies them and waits until the cluster is in sync at the pushed revision.",
    isComponent: true,
    ...inputs(reg, "Bootstrap", bootstrapArgs),
    properties: bootstrapOutputs(),
    required: ["revision", "appliedRevision", "files", "namespace"],
  };
  resources[tok("BootstrapGit")] = {
    description: "The deploy-time work of a Bootstrap (git commit and push, cluster apply, readiness wait, uninstall); created by the Bootstrap component.",
    ...inputs(reg, "Bootstrap", bootstrapArgs),
    properties: bootstrapOutputs(),
    required: ["revision", "appliedRevision", "files", "namespace"],
  };

  const installArgs = T.Object(installManifestsProps);
  const installOut = {
    namespace: str("Namespace of the controllers."),
    manifests: str("The applied objects, as multi-document YAML."),
    ready: { type: "boolean" as const, description: "Whether the controllers were Available after the last apply." },
  };
  resources[tok("Install")] = {
    description: "The controllers and CRDs only (like `flux install`), for platforms that manage the sync themselves.",
    isComponent: true,
    ...inputs(reg, "Install", installArgs),
    properties: installOut,
    required: ["namespace", "manifests"],
  };
  resources[tok("InstallManifests")] = {
    description: "The deploy-time work of an Install: staged server-side apply, wait, uninstall.",
    ...inputs(reg, "Install", installArgs),
    properties: installOut,
    required: ["namespace", "manifests"],
  };

  resources[tok("SshKeyPair")] = {
    description: "An SSH key pair generated once and kept (secret) in state: register publicKey as a deploy key, give privateKey to a Bootstrap. Changing algorithm or comment replaces it.",
    ...inputs(reg, "SshKeyPair", sshKeyPairArgs),
    properties: {
      privateKey: { type: "string", secret: true, description: "The private key, in a format OpenSSH reads." },
      publicKey: str("`<type> <base64> <comment>`, to register as a deploy key."),
      fingerprint: str("SHA256 fingerprint of the public key."),
      algorithm: str("Key type."),
    },
    required: ["privateKey", "publicKey", "fingerprint", "algorithm"],
  };

  for (const k of typedKinds) {
    const args = T.Object({ ...typedResourceProps, spec: k.spec as ReturnType<typeof T.Unstructured> });
    const inp = inputs(reg, k.name, args);
    inp.inputProperties.metadata = { $ref: `#/types/${reg.objectType("ObjectMeta", typedResourceProps.metadata)}`, description: "Object metadata." };
    resources[tok(k.name)] = {
      description: `${k.description} (${k.apiVersion} ${k.kind}). Applied with server-side apply; waits for Ready unless waitForReady is false.`,
      ...inp,
      properties: {
        ...inp.inputProperties,
        status: { ...reg.typeOf(`${k.name}Status`, k.status), description: "Status reported by the controller." },
        ready: { type: "boolean", description: "Whether the object was Ready at its current generation when last applied or refreshed." },
        revision: str("What the object reached: the artifact revision (sources), the last applied revision (Kustomization, HelmRelease), the scan revision (ImageRepository), `<image>:<tag>[@<digest>]` (ImagePolicy), the last pushed commit (ImageUpdateAutomation), the sources digest (ArtifactGenerator)."),
      },
      required: ["metadata", "spec", "ready", "revision"],
    };
  }

  return {
    name: PackageName,
    displayName: "GitOps Toolkit",
    version: ProviderVersion,
    description: "Flux-compatible GitOps: bootstrap and install the controllers, and manage sources, Kustomizations, HelmReleases and notifications as typed resources.",
    keywords: ["pulumi", "kubernetes", "gitops", "flux", "category/cloud", "kind/component"],
    license: "Apache-2.0",
    meta: { moduleFormat: "(.*)" },
    language: {
      nodejs: { packageName: "@gitops-toolkit/pulumi", dependencies: { "@pulumi/pulumi": "^3.142.0" }, respectSchemaVersion: true },
      python: { packageName: "pulumi_gitops", respectSchemaVersion: true },
      go: { importBasePath: "github.com/gitops-toolkit/pulumi-gitops/sdk/go/gitops", generateResourceContainerTypes: true, respectSchemaVersion: true },
    },
    config: {},
    provider: { description: "The gitops provider. It has no configuration: cluster and git credentials are resource inputs, so they can change and rotate." },
    types: reg.types,
    resources,
  };
}
