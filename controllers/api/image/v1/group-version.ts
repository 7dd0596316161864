/** The image.toolkit.fluxcd.io/v1 API group (image-reflector-controller): names shared by its kinds. */

export const ImageGroup = "image.toolkit.fluxcd.io";
export const ImageVersion = "v1";
export const ImageApiVersion = `${ImageGroup}/${ImageVersion}` as const;

/** `kubectl get fluxcd-images` lists every image kind. */
export const imageCategories = ["all", "fluxcd", "fluxcd-images"] as const;

/** Condition reasons of image-reflector-controller (api/v1 condition_types.go). */
export const ImageReason = {
  ImageURLInvalid: "ImageURLInvalid",
  DependencyNotReady: "DependencyNotReady",
  AuthenticationFailed: "AuthenticationFailed",
  ReadOperationFailed: "ReadOperationFailed",
  IntervalNotConfigured: "IntervalNotConfigured",
  InvalidPolicy: "InvalidPolicy",
  AccessDenied: "AccessDenied",
  /** metav1.StatusFailure */
  Failure: "Failure",
} as const;
