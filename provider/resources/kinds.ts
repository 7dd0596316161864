/**
 * The Flux kinds offered as typed resources. Specs and statuses come from controllers/api (the
 * definitions the CRDs are generated from); a kind the api layer does not define yet gets a
 * free-form spec until it does, so the resource exists with the right apiVersion meanwhile.
 */
import { allKinds } from "../../controllers/api/registry";
import { T, type SchemaProps } from "../../controllers/api/schema";

export interface TypedKind {
  /** Resource name in the package: `gitops:index:<name>`. */
  name: string;
  apiVersion: string;
  kind: string;
  description: string;
  spec: SchemaProps;
  status: SchemaProps;
  /** Whether controllers/api defines it (false: free-form spec until it does). */
  typed: boolean;
  /** Whether a controller reports Ready on it; Flux's notification v1beta3 Provider and Alert are static objects. */
  reconciled: boolean;
}

/** `name` defaults to the kind; Provider is a reserved resource name in a Pulumi package's index module. */
const wanted: { kind: string; apiVersion: string; description: string; name?: string }[] = [
  { kind: "GitRepository", apiVersion: "source.toolkit.fluxcd.io/v1", description: "A Git repository the source-controller fetches into an artifact." },
  { kind: "OCIRepository", apiVersion: "source.toolkit.fluxcd.io/v1", description: "An OCI artifact the source-controller pulls." },
  { kind: "HelmRepository", apiVersion: "source.toolkit.fluxcd.io/v1", description: "A Helm chart repository (HTTP index or OCI)." },
  { kind: "HelmChart", apiVersion: "source.toolkit.fluxcd.io/v1", description: "A Helm chart packaged from a source." },
  { kind: "Bucket", apiVersion: "source.toolkit.fluxcd.io/v1", description: "An S3-compatible bucket the source-controller fetches." },
  { kind: "Kustomization", apiVersion: "kustomize.toolkit.fluxcd.io/v1", description: "A path of a source artifact, built with kustomize and applied with server-side apply." },
  { kind: "HelmRelease", apiVersion: "helm.toolkit.fluxcd.io/v2", description: "A Helm release the helm-controller installs and upgrades." },
  { kind: "Provider", name: "NotificationProvider", apiVersion: "notification.toolkit.fluxcd.io/v1beta3", description: "Where notification-controller sends events (Slack, webhooks, git commit status...)." },
  { kind: "Alert", apiVersion: "notification.toolkit.fluxcd.io/v1beta3", description: "Which events go to which notification Provider." },
  { kind: "Receiver", apiVersion: "notification.toolkit.fluxcd.io/v1", description: "A webhook that asks Flux objects to reconcile now." },
  { kind: "ImageRepository", apiVersion: "image.toolkit.fluxcd.io/v1", description: "An image repository the image-reflector-controller scans for tags." },
  { kind: "ImagePolicy", apiVersion: "image.toolkit.fluxcd.io/v1", description: "Selects the latest tag of an ImageRepository." },
  { kind: "ImageUpdateAutomation", apiVersion: "image.toolkit.fluxcd.io/v1", description: "Updates image references in a git repository from ImagePolicies, commits and pushes." },
  { kind: "ArtifactGenerator", apiVersion: "source.extensions.fluxcd.io/v1beta1", description: "Composes or splits source artifacts into ExternalArtifacts (source-watcher)." },
];

const freeForm = T.Unstructured({ description: "Spec of the object (free-form: this kind's schema is not defined in controllers/api yet)." });
const freeStatus = T.Unstructured({ description: "Status the controller reports." });

export const typedKinds: TypedKind[] = wanted.map((w) => {
  const def = allKinds.find((k) => k.names.kind === w.kind && k.names.apiVersion === w.apiVersion)
    ?? allKinds.find((k) => k.names.kind === w.kind);
  return {
    name: w.name ?? w.kind,
    apiVersion: def?.names.apiVersion ?? w.apiVersion,
    kind: w.kind,
    description: def?.description ?? w.description,
    spec: def?.spec ?? freeForm,
    status: def?.status ?? freeStatus,
    typed: def !== undefined,
    reconciled: def === undefined || def.status.properties?.conditions !== undefined,
  };
});

export function typedKind(name: string): TypedKind | undefined {
  return typedKinds.find((k) => k.name === name);
}

/** metadata accepted by the typed resources. */
export const objectMeta = T.Object(
  {
    name: T.Optional(T.String({ description: "Name; the Pulumi resource name when unset.", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", maxLength: 253 })),
    namespace: T.Optional(T.String({ description: "Namespace; `default` when unset.", pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength: 63 })),
    labels: T.Optional(T.Map(T.String(), "Labels.")),
    annotations: T.Optional(T.Map(T.String(), "Annotations.")),
  },
  "Object metadata.",
);

export const typedResourceProps = {
  metadata: T.Optional(objectMeta),
  kubeconfig: T.Optional(T.String("Kubeconfig (contents, or a file path) of the cluster; KUBECONFIG / ~/.kube/config at deploy time when unset.")),
  context: T.Optional(T.String("Kubeconfig context; the current context by default.")),
  waitForReady: T.Optional(T.Boolean("Wait until the controller reports Ready=True for the applied generation (default true); the error carries the controller's message.")),
  adopt: T.Optional(T.Boolean("Take over an object that already exists (made by another tool or stack): this resource then owns it (server-side apply with force) and deletes it on destroy. Without it, creating over an existing object is refused. (Pulumi's `import` option cannot serve here: the Node.js provider host cannot read a resource without state.)")),
  timeout: T.Optional(T.String({ description: "How long to wait for Ready; `2m` by default.", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" })),
};
