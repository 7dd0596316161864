// Where the Flux kinds an Alert listens to or a Receiver notifies live in the API: their plural,
// and the apiVersion Flux assumes when a Receiver resource leaves it out.
import type { FluxObjectKind } from "../api/notification/v1/cross-namespace-reference";
import type { ResourceRef } from "../runtime/kube";

const plurals: Record<FluxObjectKind, string> = {
  Bucket: "buckets",
  GitRepository: "gitrepositories",
  Kustomization: "kustomizations",
  HelmRelease: "helmreleases",
  HelmChart: "helmcharts",
  HelmRepository: "helmrepositories",
  ImageRepository: "imagerepositories",
  ImagePolicy: "imagepolicies",
  ImageUpdateAutomation: "imageupdateautomations",
  OCIRepository: "ocirepositories",
  ArtifactGenerator: "artifactgenerators",
  ExternalArtifact: "externalartifacts",
};

/** Flux's defaults for a Receiver resource without apiVersion (others must set it). */
export const defaultReceiverApiVersions: Partial<Record<string, string>> = {
  Bucket: "source.toolkit.fluxcd.io/v1",
  HelmChart: "source.toolkit.fluxcd.io/v1",
  HelmRepository: "source.toolkit.fluxcd.io/v1",
  GitRepository: "source.toolkit.fluxcd.io/v1",
  OCIRepository: "source.toolkit.fluxcd.io/v1",
  ImageRepository: "image.toolkit.fluxcd.io/v1",
  ArtifactGenerator: "source.extensions.fluxcd.io/v1beta1",
};

/** The API resource of a Flux kind at `apiVersion` (`group/version`). */
export function fluxResource(kind: string, apiVersion: string): ResourceRef {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  const plural = plurals[kind as FluxObjectKind] ?? `${kind.toLowerCase()}s`;
  return { group, version, plural, kind };
}

/** The API group of an apiVersion (`""` for the core group). */
export function groupOf(apiVersion: string | undefined): string {
  return apiVersion?.includes("/") ? apiVersion.split("/")[0] : "";
}
