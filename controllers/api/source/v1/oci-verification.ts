/** Signature verification of OCI artifacts (cosign or notation), shared by OCIRepository and HelmChart. */
import { localObjectReference } from "../../meta";
import { T, type Static } from "../../schema";

export const VerificationProvider = { Cosign: "cosign", Notation: "notation" } as const;
export type VerificationProvider = (typeof VerificationProvider)[keyof typeof VerificationProvider];

export const oidcIdentityMatch = T.Object(
  {
    issuer: T.String("Go regular expression the OIDC issuer of the Fulcio certificate must match."),
    subject: T.String("Go regular expression the identity subject of the Fulcio certificate must match."),
  },
  "Identity a keyless cosign signature must carry.",
);
export type OIDCIdentityMatch = Static<typeof oidcIdentityMatch>;

/** The fields both verification objects have. */
const verificationProps = {
  provider: T.Enum(Object.values(VerificationProvider), {
    description: "Signing technology to verify with.",
    default: VerificationProvider.Cosign,
  }),
  secretRef: T.Optional(localObjectReference("Secret with the trusted public keys or certificates.")),
  matchOIDCIdentity: T.Optional(
    T.Array(oidcIdentityMatch, "For keyless cosign signatures: accepted identities; any match verifies."),
  ),
};

export const ociRepositoryVerification = T.Object(
  {
    ...verificationProps,
    trustedRootSecretRef: T.Optional(
      localObjectReference(
        "Secret with a Sigstore `trusted_root.json`, for self-hosted Sigstore (own Fulcio CA or Rekor).",
      ),
    ),
  },
  "Verify the signature of the OCI artifact before using it.",
);
export type OCIRepositoryVerification = Static<typeof ociRepositoryVerification>;

export const helmChartVerification = T.Object(
  verificationProps,
  "Verify the signature of the chart (OCI HelmRepository sources only).",
);
export type HelmChartVerification = Static<typeof helmChartVerification>;
