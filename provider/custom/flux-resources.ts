/**
 * Typed resources, one per Flux kind: `spec` typed from controllers/api (the definitions the
 * CRDs come from), `status` typed likewise. Implemented generically by the provider plugin
 * (provider/resources/flux-object.ts): server-side apply, wait for Ready with the controller's
 * message on failure, refresh, delete after the controller's finalizer ran.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HelmReleaseSpec, HelmReleaseStatus } from "../../controllers/api/helm/v2/helm-release";
import type { KustomizationSpec, KustomizationStatus } from "../../controllers/api/kustomize/v1/kustomization";
import type { BucketSpec, BucketStatus } from "../../controllers/api/source/v1/bucket";
import type { GitRepositorySpec, GitRepositoryStatus } from "../../controllers/api/source/v1/git-repository";
import type { HelmChartSpec, HelmChartStatus } from "../../controllers/api/source/v1/helm-chart";
import type { HelmRepositorySpec, HelmRepositoryStatus } from "../../controllers/api/source/v1/helm-repository";
import type { OCIRepositorySpec, OCIRepositoryStatus } from "../../controllers/api/source/v1/oci-repository";
import type { ReceiverSpec, ReceiverStatus } from "../../controllers/api/notification/v1/receiver";
import type { AlertSpec } from "../../controllers/api/notification/v1beta3/alert";
import type { ProviderSpec } from "../../controllers/api/notification/v1beta3/provider";
import type { ImagePolicySpec, ImagePolicyStatus } from "../../controllers/api/image/v1/image-policy";
import type { ImageRepositorySpec, ImageRepositoryStatus } from "../../controllers/api/image/v1/image-repository";
import type { ImageUpdateAutomationSpec, ImageUpdateAutomationStatus } from "../../controllers/api/image/v1/image-update-automation";
import type { ArtifactGeneratorSpec, ArtifactGeneratorStatus } from "../../controllers/api/source-extensions/v1beta1/artifact-generator";
import { token } from "../version";
import type { DeepInput } from "./inputs";
import { withKubernetesProvider, type KubernetesProviderArg } from "./kubernetes-provider";

export interface ObjectMetaArgs {
  name?: pulumi.Input<string>;
  namespace?: pulumi.Input<string>;
  labels?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  annotations?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export interface FluxResourceArgs<Spec> extends KubernetesProviderArg {
  metadata?: pulumi.Input<ObjectMetaArgs>;
  spec: DeepInput<Spec>;
  /** Kubeconfig (contents, or a file path); KUBECONFIG / ~/.kube/config at deploy time when unset. */
  kubeconfig?: pulumi.Input<string>;
  context?: pulumi.Input<string>;
  /** Wait for Ready=True at the applied generation (default true). */
  waitForReady?: pulumi.Input<boolean>;
  /** Take over an existing object made by another tool or stack (else creating over it is refused). */
  adopt?: pulumi.Input<boolean>;
  /** How long to wait; `2m` by default. */
  timeout?: pulumi.Input<string>;
}

/** Common base of the typed resources. */
export abstract class FluxResource<Spec, Status> extends pulumi.CustomResource {
  declare readonly metadata: pulumi.Output<{ name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> }>;
  declare readonly spec: pulumi.Output<Spec>;
  declare readonly status: pulumi.Output<Status>;
  declare readonly ready: pulumi.Output<boolean>;
  declare readonly revision: pulumi.Output<string>;

  protected constructor(kind: string, name: string, args: FluxResourceArgs<Spec> | undefined, opts: pulumi.CustomResourceOptions = {}) {
    const props: pulumi.Inputs = { ...(args ? withKubernetesProvider(`${kind} ${name}`, args) : {}), status: undefined, ready: undefined, revision: undefined };
    if (opts.id) Object.assign(props, { metadata: undefined, spec: undefined });
    super(token(kind), name, props, { ...opts, additionalSecretOutputs: [...(opts.additionalSecretOutputs ?? []), "kubeconfig"] });
  }
}

/** notification v1beta3 kinds report no status of their own (Flux's "static" objects). */
type NoStatus = Record<string, unknown>;

/** A Git repository the source-controller fetches (source.toolkit.fluxcd.io/v1). */
export class GitRepository extends FluxResource<GitRepositorySpec, GitRepositoryStatus> {
  constructor(name: string, args: FluxResourceArgs<GitRepositorySpec>, opts?: pulumi.CustomResourceOptions) { super("GitRepository", name, args, opts); }
  static get(name: string, id: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions): GitRepository {
    return new GitRepository(name, undefined as never, { ...opts, id });
  }
}
export class OCIRepository extends FluxResource<OCIRepositorySpec, OCIRepositoryStatus> {
  constructor(name: string, args: FluxResourceArgs<OCIRepositorySpec>, opts?: pulumi.CustomResourceOptions) { super("OCIRepository", name, args, opts); }
}
export class HelmRepository extends FluxResource<HelmRepositorySpec, HelmRepositoryStatus> {
  constructor(name: string, args: FluxResourceArgs<HelmRepositorySpec>, opts?: pulumi.CustomResourceOptions) { super("HelmRepository", name, args, opts); }
}
export class HelmChart extends FluxResource<HelmChartSpec, HelmChartStatus> {
  constructor(name: string, args: FluxResourceArgs<HelmChartSpec>, opts?: pulumi.CustomResourceOptions) { super("HelmChart", name, args, opts); }
}
export class Bucket extends FluxResource<BucketSpec, BucketStatus> {
  constructor(name: string, args: FluxResourceArgs<BucketSpec>, opts?: pulumi.CustomResourceOptions) { super("Bucket", name, args, opts); }
}
/** A path of a source artifact, built with kustomize and applied (kustomize.toolkit.fluxcd.io/v1). */
export class Kustomization extends FluxResource<KustomizationSpec, KustomizationStatus> {
  constructor(name: string, args: FluxResourceArgs<KustomizationSpec>, opts?: pulumi.CustomResourceOptions) { super("Kustomization", name, args, opts); }
}
export class HelmRelease extends FluxResource<HelmReleaseSpec, HelmReleaseStatus> {
  constructor(name: string, args: FluxResourceArgs<HelmReleaseSpec>, opts?: pulumi.CustomResourceOptions) { super("HelmRelease", name, args, opts); }
}
/** notification.toolkit.fluxcd.io kinds. */
/** Flux's notification Provider (named so: `Provider` is reserved for the package's own provider). */
export class NotificationProvider extends FluxResource<ProviderSpec, NoStatus> {
  constructor(name: string, args: FluxResourceArgs<ProviderSpec>, opts?: pulumi.CustomResourceOptions) { super("NotificationProvider", name, args, opts); }
}
export class Alert extends FluxResource<AlertSpec, NoStatus> {
  constructor(name: string, args: FluxResourceArgs<AlertSpec>, opts?: pulumi.CustomResourceOptions) { super("Alert", name, args, opts); }
}
export class Receiver extends FluxResource<ReceiverSpec, ReceiverStatus> {
  constructor(name: string, args: FluxResourceArgs<ReceiverSpec>, opts?: pulumi.CustomResourceOptions) { super("Receiver", name, args, opts); }
}

/** image.toolkit.fluxcd.io/v1 kinds (image-reflector- and image-automation-controller). */
/** Scans an image repository for tags: status.lastScanResult, status.canonicalImageName; revision = the scan's revision. */
export class ImageRepository extends FluxResource<ImageRepositorySpec, ImageRepositoryStatus> {
  constructor(name: string, args: FluxResourceArgs<ImageRepositorySpec>, opts?: pulumi.CustomResourceOptions) { super("ImageRepository", name, args, opts); }
}
/** Selects the latest tag of an ImageRepository: status.latestRef; revision = `<image>:<tag>[@<digest>]`. */
export class ImagePolicy extends FluxResource<ImagePolicySpec, ImagePolicyStatus> {
  constructor(name: string, args: FluxResourceArgs<ImagePolicySpec>, opts?: pulumi.CustomResourceOptions) { super("ImagePolicy", name, args, opts); }
}

/** Updates image references in git from ImagePolicies: status.lastPushCommit, lastPushTime; revision = the last pushed commit. */
export class ImageUpdateAutomation extends FluxResource<ImageUpdateAutomationSpec, ImageUpdateAutomationStatus> {
  constructor(name: string, args: FluxResourceArgs<ImageUpdateAutomationSpec>, opts?: pulumi.CustomResourceOptions) { super("ImageUpdateAutomation", name, args, opts); }
}

/** source.extensions.fluxcd.io/v1beta1 (source-watcher): status.inventory lists the ExternalArtifacts made; revision = status.observedSourcesDigest. */
export class ArtifactGenerator extends FluxResource<ArtifactGeneratorSpec, ArtifactGeneratorStatus> {
  constructor(name: string, args: FluxResourceArgs<ArtifactGeneratorSpec>, opts?: pulumi.CustomResourceOptions) { super("ArtifactGenerator", name, args, opts); }
}
