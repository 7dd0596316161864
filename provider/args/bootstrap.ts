/**
 * Inputs of the `Bootstrap` component: as rich as Flux's `flux_bootstrap_git`, with credentials
 * as (secret) resource inputs so rotating them is a diff. One definition for the TypeScript type,
 * the Pulumi schema and the validation.
 */
import { T, type Static } from "../../controllers/api/schema";
import { installOptionsProps } from "./install";

export const sshCredentials = T.Object(
  {
    privateKey: T.Optional(T.String("PEM/OpenSSH private key with write access to the repository (secret). Leave unset and set `generateKey` to have one generated.")),
    knownHosts: T.Optional(T.String("known_hosts lines for the git host. When unset the host key is scanned once (trust on first use) and recorded in the `knownHosts` output.")),
    username: T.Optional(T.String("SSH user; the URL's user, else `git`.")),
    generateKey: T.Optional(T.Enum(["ecdsa", "ed25519", "rsa"], "Bootstrap component only: generate a key pair of this type (an SshKeyPair child; Flux's default is ecdsa P-384). Its public key is the `publicKey` output: register it as a deploy key with write access. To register it before the first push, create an SshKeyPair yourself and pass its privateKey.")),
  },
  "SSH credentials (ssh:// URLs).",
);

export const httpCredentials = T.Object(
  {
    username: T.Optional(T.String("Basic-auth user name (with password). `git` by default when only a password is set.")),
    password: T.Optional(T.String("Basic-auth password or access token (secret).")),
    bearerToken: T.Optional(T.String("Bearer token sent as `Authorization: Bearer` (secret); instead of username/password.")),
    certificateAuthority: T.Optional(T.String("PEM CA bundle that signs the server's certificate; also written to the Secret as `ca.crt`.")),
    allowInsecureHttp: T.Optional(T.Boolean("Must be true to use a plain http:// URL: credentials and manifests then travel unencrypted.")),
  },
  "HTTP(S) credentials (http:// and https:// URLs).",
);

export const gitOptionsProps = {
  url: T.String({ description: "Repository URL: https://, http:// (with http.allowInsecureHttp) or ssh://.", pattern: "^(https?|ssh)://.+$" }),
  syncUrl: T.Optional(T.String({ description: "URL the cluster's GitRepository uses, when it differs from the one the provider pushes to (e.g. an in-cluster host name).", pattern: "^(https?|ssh)://.+$" })),
  branch: T.Optional(T.String({ description: "Branch pushed to and reconciled from; `main` by default. Created when missing.", pattern: "^[^\\s~^:?*\\[\\\\]+$" })),
  path: T.Optional(T.String("Repository directory of this cluster, e.g. `clusters/prod`; the files go to `<path>/<namespace>/`. The repository root by default.")),
  authorName: T.Optional(T.String("Commit author name; `Flux` by default.")),
  authorEmail: T.Optional(T.String("Commit author email.")),
  commitMessageAppendix: T.Optional(T.String("Text appended to every commit message after a blank line.")),
  ssh: T.Optional(sshCredentials),
  http: T.Optional(httpCredentials),
};

export const bootstrapOptionsProps = {
  ...gitOptionsProps,
  ...installOptionsProps,
  interval: T.Optional(T.String({ description: "How often the cluster fetches the repository; `1m0s` by default.", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" })),
  secretName: T.Optional(T.String({ description: "Name of the credentials Secret the GitRepository uses; the namespace name by default.", pattern: "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" })),
  disableSecretCreation: T.Optional(T.Boolean("Use an existing Secret named secretName; the provider neither creates nor changes it.")),
  recurseSubmodules: T.Optional(T.Boolean("GitRepository spec.recurseSubmodules.")),
  sparseCheckout: T.Optional(T.Array(T.String(), "GitRepository spec.sparseCheckout: only these directories are fetched.")),
  registryCredentials: T.Optional(T.String({ description: "`user:password` for the image registry; creates the imagePullSecret as a dockerconfigjson Secret (secret).", pattern: "^[^:]+:.+$" })),
  kubeconfig: T.Optional(T.String("Kubeconfig (contents, or a file path) of the cluster; late-bound, so a cluster created in the same program works. KUBECONFIG / ~/.kube/config at deploy time when unset.")),
  context: T.Optional(T.String("Kubeconfig context; the current context by default.")),
  wait: T.Optional(T.Boolean("Wait until the controllers are Available and the sync GitRepository and Kustomization are Ready at the pushed revision (default true). With false, the outputs' appliedRevision stays empty.")),
  timeout: T.Optional(T.String({ description: "How long to wait for the controllers and the sync to be Ready at the pushed revision; `5m` by default.", pattern: "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$" })),
  deleteGitManifests: T.Optional(T.Boolean("On destroy, remove the files from git too (default true).")),
  keepNamespace: T.Optional(T.Boolean("On destroy, keep the namespace (default false).")),
  cascade: T.Optional(T.Boolean("On destroy, first delete what the Kustomizations and HelmReleases applied (their own garbage collection), then uninstall. Default false: workloads stay, as with Flux.")),
  force: T.Optional(T.Boolean("Take over an installation made by another tool (app.kubernetes.io/managed-by) or another cluster's files at the same path.")),
};
export const bootstrapOptions = T.Object(bootstrapOptionsProps, "Bootstrap: install the controllers and make them reconcile themselves from git.");
export type BootstrapOptions = Static<typeof bootstrapOptions>;
export type SshCredentials = Static<typeof sshCredentials>;
export type HttpCredentials = Static<typeof httpCredentials>;
