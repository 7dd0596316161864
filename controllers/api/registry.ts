/**
 * Every kind version the project serves, and the CRDs built from them.
 * Add a kind here and `gen-crds` writes its CRD; the compat test then holds it to Flux's.
 */
import { customResourceDefinition, type CustomResourceDefinition, type KindVersion } from "./crd";
import { imagePolicyKind } from "./image/v1/image-policy";
import { imageRepositoryKind } from "./image/v1/image-repository";
import { imageUpdateAutomationKind } from "./image/v1/image-update-automation";
import { helmReleaseKind } from "./helm/v2/helm-release";
import { kustomizationKind } from "./kustomize/v1/kustomization";
import { receiverKind } from "./notification/v1/receiver";
import { alertKind } from "./notification/v1beta3/alert";
import { providerKind } from "./notification/v1beta3/provider";
import { bucketKind } from "./source/v1/bucket";
import { externalArtifactKind } from "./source/v1/external-artifact";
import { gitRepositoryKind } from "./source/v1/git-repository";
import { helmChartKind } from "./source/v1/helm-chart";
import { helmRepositoryKind } from "./source/v1/helm-repository";
import { ociRepositoryKind } from "./source/v1/oci-repository";
import { artifactGeneratorKind } from "./source-extensions/v1beta1/artifact-generator";

export const allKinds: readonly KindVersion[] = [
  gitRepositoryKind,
  ociRepositoryKind,
  helmRepositoryKind,
  helmChartKind,
  bucketKind,
  externalArtifactKind,
  kustomizationKind,
  helmReleaseKind,
  providerKind,
  alertKind,
  receiverKind,
  artifactGeneratorKind,
  imageRepositoryKind,
  imagePolicyKind,
  imageUpdateAutomationKind,
];

/** One CRD per group and kind, with all its versions, in `allKinds` order. */
export function allCrds(): CustomResourceDefinition[] {
  const byName = new Map<string, KindVersion[]>();
  for (const k of allKinds) {
    const name = `${k.names.plural}.${k.names.group}`;
    byName.set(name, [...(byName.get(name) ?? []), k]);
  }
  return [...byName.values()].map((versions) => customResourceDefinition(versions));
}

/** The file a CRD is written to, as Flux names them in config/crd/bases. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.spec.group}_${crd.spec.names.plural}.yaml`;
}
