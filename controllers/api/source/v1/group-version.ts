/** The source.toolkit.fluxcd.io/v1 API group: names shared by its kinds. */

export const SourceGroup = "source.toolkit.fluxcd.io";
export const SourceVersion = "v1";
export const SourceApiVersion = `${SourceGroup}/${SourceVersion}` as const;

/** `kubectl get fluxcd-sources` lists every source kind. */
export const sourceCategories = ["all", "fluxcd", "fluxcd-sources"] as const;
