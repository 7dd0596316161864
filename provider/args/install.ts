/**
 * What an installation of the controllers looks like: the options shared by the `Install` and
 * `Bootstrap` components, by `gitops install --export`, and by the manifest renderer.
 *
 * Written once with the schema builder of controllers/api: the TypeScript types (`Static`), the
 * Pulumi package schema (provider/schema) and the input validation (provider/schema/validate.ts)
 * all come from these values.
 */
import { T, type Static } from "../../controllers/api/schema";

/** The controllers this toolkit provides, with Flux's names. */
export const Component = {
  Source: "source-controller",
  Kustomize: "kustomize-controller",
  Helm: "helm-controller",
  Notification: "notification-controller",
} as const;
export type Component = (typeof Component)[keyof typeof Component];
export const allComponents: readonly Component[] = Object.values(Component);
export const defaultComponents: readonly Component[] = allComponents;

/** Flux's optional controllers (`--components-extra`), installed only when asked for. */
export const ExtraComponent = {
  ImageReflector: "image-reflector-controller",
  ImageAutomation: "image-automation-controller",
  SourceWatcher: "source-watcher",
} as const;
export type ExtraComponent = (typeof ExtraComponent)[keyof typeof ExtraComponent];
/** Any controller an installation can hold. */
export type AnyComponent = Component | ExtraComponent;
/** The controllers Flux's sharding guide runs once per shard. */
export const ShardedComponents: readonly Component[] = [Component.Source, Component.Kustomize, Component.Helm];
/** The label a shard's objects carry (Flux's sharding guide). */
export const ShardLabel = "sharding.fluxcd.io/key";

export const LogLevel = { Info: "info", Debug: "debug", Error: "error" } as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** A JSON6902 operation, as kustomize's `patches` accept them. */
export const jsonPatchOperation = T.Object(
  {
    op: T.Enum(["add", "remove", "replace", "copy", "move", "test"], "JSON6902 operation."),
    path: T.String({ description: "JSON pointer of the field, e.g. `/spec/template/spec/containers/0/args/-`.", pattern: "^(/.*)?$" }),
    value: T.Optional(T.Json({ description: "Value for add, replace and test." })),
    from: T.Optional(T.String("Source pointer for copy and move.")),
  },
  "One JSON6902 patch operation.",
);
export type JsonPatchOperation = Static<typeof jsonPatchOperation>;

/** A patch of the install manifests, written into kustomization.yaml so Flux applies it too. */
export const installPatch = T.Object(
  {
    target: T.Object(
      {
        kind: T.String("Kind of the objects to patch, e.g. `Deployment`."),
        name: T.Optional(T.String("Name of the object to patch; all objects of the kind when unset.")),
        group: T.Optional(T.String("API group, e.g. `apps`; any when unset.")),
        labelSelector: T.Optional(T.String("Label selector, e.g. `app.kubernetes.io/component=source-controller`.")),
      },
      "Which install objects the operations apply to.",
    ),
    operations: T.Array(jsonPatchOperation, { description: "Operations applied in order.", minItems: 1 }),
  },
  "JSON6902 operations applied to the install objects a target selects.",
);
export type InstallPatch = Static<typeof installPatch>;

export const toleration = T.Object(
  {
    key: T.Optional(T.String("Taint key; all taints with `operator: Exists` when unset.")),
    operator: T.Optional(T.Enum(["Exists", "Equal"], "`Exists` (default) or `Equal`.")),
    value: T.Optional(T.String("Taint value, with `operator: Equal`.")),
    effect: T.Optional(T.Enum(["NoSchedule", "PreferNoSchedule", "NoExecute"], "Taint effect; all when unset.")),
  },
  "A pod toleration.",
);

export const resourceRequirements = T.Object(
  {
    requests: T.Optional(T.Map(T.String(), "Requests, e.g. `{cpu: 100m, memory: 128Mi}`.")),
    limits: T.Optional(T.Map(T.String(), "Limits, e.g. `{memory: 1Gi}`; also sets GOMEMLIMIT's source.")),
  },
  "Container resources.",
);

/** Typed changes to the controller Deployments; rendered as JSON6902 patches. */
export const customisation = T.Object(
  {
    tolerations: T.Optional(T.Array(toleration, "Tolerations added to every controller pod.")),
    nodeSelector: T.Optional(T.Map(T.String(), "Node labels every controller pod requires, added to `kubernetes.io/os: linux`.")),
    podAnnotations: T.Optional(T.Map(T.String(), "Annotations added to every controller pod template.")),
    podLabels: T.Optional(T.Map(T.String(), "Labels added to every controller pod template.")),
    resources: T.Optional(T.Map(resourceRequirements, "Resources per controller, keyed by component name.")),
    extraArgs: T.Optional(T.Map(T.Array(T.String()), "Flags appended per controller, keyed by component name, e.g. `{\"kustomize-controller\": [\"--concurrent=8\"]}`.")),
    env: T.Optional(T.Map(T.String(), "Environment variables added to every controller container.")),
    priorityClassName: T.Optional(T.String("Priority class of the controller pods; `system-cluster-critical` by default (not for notification-controller).")),
    patches: T.Optional(T.Array(installPatch, "Raw JSON6902 patches, applied after the typed fields above.")),
  },
  "Changes to the install manifests. They are written into kustomization.yaml as patches, so the installation Flux reconciles from git is the one applied.",
);
export type Customisation = Static<typeof customisation>;

/** Flux's multi-tenancy lockdown flags (its multi-tenancy guide patches them in; here they are typed). */
export const multiTenancy = T.Object(
  {
    noCrossNamespaceRefs: T.Optional(T.Boolean("`--no-cross-namespace-refs` on kustomize-, helm- and notification-controller: objects may reference sources, dependencies and providers only in their own namespace.")),
    noRemoteBases: T.Optional(T.Boolean("`--no-remote-bases` on kustomize-controller: kustomizations may reference only files of their source artifact.")),
    defaultServiceAccount: T.Optional(T.String({ description: "`--default-service-account` on kustomize- and helm-controller: the ServiceAccount (of the object's namespace) impersonated when a Kustomization or HelmRelease names none, e.g. `default`.", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" })),
    watchLabelSelector: T.Optional(T.String("`--watch-label-selector` on every controller: reconcile only objects matching it, e.g. `!sharding.fluxcd.io/key`.")),
  },
  "Multi-tenancy lockdown, as Flux's multi-tenancy guide sets it up. Rendered as patches of the Deployments' args, like customisation.extraArgs.",
);
export type MultiTenancy = Static<typeof multiTenancy>;

export const installOptionsProps = {
  version: T.Optional(T.String({ description: "Version of the controllers (image tag); the provider's own version when unset.", pattern: "^v[0-9]+\\.[0-9]+\\.[0-9]+([-+].*)?$" })),
  namespace: T.Optional(
    T.String({
      description: "Namespace of the controllers; also names the sync GitRepository and Kustomization. `flux-system` by default.",
      pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
      maxLength: 63,
    }),
  ),
  components: T.Optional(
    T.Array(T.Enum(Object.values(Component)), {
      description: "Controllers to install; source-controller and kustomize-controller are required for bootstrap. All four by default.",
      minItems: 1,
    }),
  ),
  componentsExtra: T.Optional(T.Array(T.Enum(Object.values(ExtraComponent)), "Flux's optional controllers: `source-watcher` (ArtifactGenerator), `image-reflector-controller` (ImageRepository, ImagePolicy) and `image-automation-controller` (ImageUpdateAutomation), with their Deployment, ServiceAccount, CRDs and Service as Flux installs them.")),
  shards: T.Optional(T.Array(T.String({ description: "Shard key: a label value (at most 63 characters: letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit).", pattern: "^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$", maxLength: 63 }), "Shard keys, as Flux's sharding guide sets them up: for each key an extra source-, kustomize- and helm-controller Deployment `<controller>-<key>` that reconciles only objects labelled `sharding.fluxcd.io/key: <key>` (`--watch-label-selector`); the main controllers then skip every object with that label (`--watch-label-selector=!sharding.fluxcd.io/key`).")),
  registry: T.Optional(T.String("Container registry prefix of the controller images (`<registry>/<component>:<version>`).")),
  imagePullSecret: T.Optional(T.String({ description: "Name of an image pull Secret set on every controller pod.", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" })),
  clusterDomain: T.Optional(T.String("Cluster DNS domain, for --events-addr and --storage-adv-addr. `cluster.local` by default.")),
  networkPolicy: T.Optional(T.Boolean("Install the allow-egress, allow-scraping and allow-webhooks NetworkPolicies (default true).")),
  watchAllNamespaces: T.Optional(T.Boolean("Controllers watch every namespace (default true); false restricts them to their own.")),
  logLevel: T.Optional(T.Enum(Object.values(LogLevel), "Controller log level: info (default), debug or error.")),
  tolerationKeys: T.Optional(T.Array(T.String({ description: "Taint key tolerated with operator Exists.", pattern: "^[A-Za-z0-9]([A-Za-z0-9._/-]*)$" }), "Flux's toleration_keys: each key becomes a toleration with operator Exists.")),
  customisation: T.Optional(customisation),
  multiTenancy: T.Optional(multiTenancy),
};
export const installOptions = T.Object(installOptionsProps, "Options of an installation of the controllers.");
export type InstallOptions = Static<typeof installOptions>;
