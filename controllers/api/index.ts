/** The Flux APIs: schemas, derived types, names and CRDs. Re-exports only. */
export * from "./schema";
export * from "./meta";
export * from "./crd";
export * from "./kustomize-common";
export * from "./registry";
export * from "./source/v1/group-version";
export * from "./source/v1/oci-verification";
export * from "./source/v1/git-repository";
export * from "./source/v1/oci-repository";
export * from "./source/v1/helm-repository";
export * from "./source/v1/helm-chart";
export * from "./source/v1/bucket";
export * from "./source/v1/external-artifact";
export * from "./kustomize/v1/kustomization";
export * from "./helm/v2/helm-release-actions";
export * from "./helm/v2/helm-release";
export * from "./notification";
