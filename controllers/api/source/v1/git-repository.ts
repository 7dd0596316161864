/**
 * GitRepository (source.toolkit.fluxcd.io/v1): clones a Git repository at a reference and
 * publishes the checkout as an artifact. Spec: source-controller docs/spec/v1/gitrepositories.md.
 */
import { ageColumn, defineKind, readyColumn, statusColumn } from "../../crd";
import {
  artifact,
  duration,
  localObjectReference,
  reconcileStatusProps,
  ShortDurationPattern,
  statusDefault,
  type KubeObject,
} from "../../meta";
import { T, type Static } from "../../schema";
import { SourceApiVersion, SourceGroup, SourceVersion, sourceCategories } from "./group-version";

export const GitRepositoryNames = {
  group: SourceGroup,
  version: SourceVersion,
  apiVersion: SourceApiVersion,
  kind: "GitRepository",
  listKind: "GitRepositoryList",
  plural: "gitrepositories",
  singular: "gitrepository",
  shortNames: ["gitrepo"],
  categories: sourceCategories,
} as const;

/** How the controller authenticates to the Git server. */
export const GitProvider = { Generic: "generic", AWS: "aws", Azure: "azure", GitHub: "github" } as const;
export type GitProvider = (typeof GitProvider)[keyof typeof GitProvider];

/** Which Git objects carry the signatures to verify. `head` is an old spelling of `HEAD`. */
export const GitVerificationMode = { Head: "head", HEAD: "HEAD", Tag: "Tag", TagAndHEAD: "TagAndHEAD" } as const;
export type GitVerificationMode = (typeof GitVerificationMode)[keyof typeof GitVerificationMode];

/** The branch checked out when `spec.ref` names nothing. */
export const DefaultGitBranch = "master";

/**
 * The Git reference to check out. When several fields are set the most specific wins:
 * `commit`, then `name`, then `semver`, then `tag`, then `branch`. `commit` together with
 * `branch` shallow-clones the branch and expects the commit on it.
 */
export const gitRepositoryRef = T.Object(
  {
    branch: T.Optional(T.String("Branch to check out; `master` when no other field is set.")),
    tag: T.Optional(T.String("Tag to check out; takes precedence over branch.")),
    semver: T.Optional(T.String("SemVer range; the highest matching tag is checked out. Takes precedence over tag.")),
    name: T.Optional(
      T.String(
        "Full Git reference to check out, e.g. `refs/heads/main`, `refs/tags/v1.0.0` or `refs/pull/1/head`. " +
          "Takes precedence over branch, tag and semver.",
      ),
    ),
    commit: T.Optional(
      T.String("Commit SHA to check out; takes precedence over every other field. With branch, the commit must be on it."),
    ),
  },
  "Git reference to check out and watch; the `master` branch when unset.",
);
export type GitRepositoryRef = Static<typeof gitRepositoryRef>;

export const gitRepositoryVerification = T.Object(
  {
    mode: T.Optional(
      T.Enum(Object.values(GitVerificationMode), {
        description: "Which objects to verify: the HEAD commit, the tag, or both.",
        default: GitVerificationMode.HEAD,
      }),
    ),
    secretRef: localObjectReference(
      "Secret with the trusted public keys: PGP keys under `*.asc` keys, SSH keys under `*.sshpub` keys.",
    ),
  },
  "Verify the signature of the checked-out commit or tag.",
);
export type GitRepositoryVerification = Static<typeof gitRepositoryVerification>;

export const gitRepositoryInclude = T.Object(
  {
    repository: localObjectReference("GitRepository whose artifact is included."),
    fromPath: T.Optional(T.String("Path in the included artifact to copy from; its root by default.")),
    toPath: T.Optional(T.String("Path to copy to; the included GitRepository's name by default.")),
  },
  "Contents of another GitRepository's artifact to include in this one.",
);
export type GitRepositoryInclude = Static<typeof gitRepositoryInclude>;

export const gitRepositorySpec = T.Object(
  {
    url: T.String({ description: "Repository URL, over HTTP(S) or SSH.", pattern: "^(http|https|ssh)://.*$" }),
    secretRef: T.Optional(
      localObjectReference(
        "Secret with credentials: `username` and `password` or `bearerToken` for HTTPS, " +
          "`identity` and `known_hosts` for SSH.",
      ),
    ),
    provider: T.Optional(
      T.Enum(Object.values(GitProvider), "Authentication provider; `generic` (the Secret) when unset."),
    ),
    serviceAccountName: T.Optional(
      T.String("ServiceAccount whose identity authenticates to the repository; only with the azure and aws providers."),
    ),
    interval: duration("How often to check the repository for new revisions (approximate, jittered)."),
    timeout: T.Optional(
      T.String({ description: "Timeout for Git operations such as clone.", pattern: ShortDurationPattern, default: "60s" }),
    ),
    ref: T.Optional(gitRepositoryRef),
    verify: T.Optional(gitRepositoryVerification),
    proxySecretRef: T.Optional(localObjectReference("Secret with the proxy to use for the Git server.")),
    ignore: T.Optional(
      T.String("Paths to leave out of the artifact, in .sourceignore (gitignore) format; replaces the defaults."),
    ),
    suspend: T.Optional(T.Boolean("Stop reconciling this GitRepository.")),
    recurseSubmodules: T.Optional(T.Boolean("Clone submodules too, with their default settings.")),
    include: T.Optional(T.Array(gitRepositoryInclude, "Other GitRepositories' artifacts to include.")),
    sparseCheckout: T.Optional(
      T.Array(T.String(), "Check out only these directories; the artifact holds only them."),
    ),
  },
  {
    description: "Desired state of a GitRepository.",
    validations: [
      {
        message: "serviceAccountName can only be set when provider is 'azure' or 'aws'",
        rule: "!has(self.serviceAccountName) || (has(self.provider) && (self.provider == 'azure' || self.provider == 'aws'))",
      },
    ],
  },
);
export type GitRepositorySpec = Static<typeof gitRepositorySpec>;

export const gitRepositoryStatus = T.Object(
  {
    ...reconcileStatusProps,
    artifact: T.Optional(artifact("Artifact of the last successful reconciliation.")),
    includedArtifacts: T.Optional(
      T.Array(artifact("An included artifact."), "Artifacts of the includes, as last included."),
    ),
    observedIgnore: T.Optional(T.String("The ignore patterns the current artifact was built with.")),
    observedRecurseSubmodules: T.Optional(T.Boolean("Whether the current artifact includes submodules.")),
    observedInclude: T.Optional(T.Array(gitRepositoryInclude, "The includes the current artifact was built with.")),
    observedSparseCheckout: T.Optional(
      T.Array(T.String(), "The sparse checkout directories the current artifact was built with."),
    ),
    sourceVerificationMode: T.Optional(T.String("Verification mode last used, i.e. which objects were verified.")),
  },
  { description: "Observed state of a GitRepository.", default: statusDefault },
);
export type GitRepositoryStatus = Static<typeof gitRepositoryStatus>;

export type GitRepository = KubeObject<
  typeof GitRepositoryNames.apiVersion,
  typeof GitRepositoryNames.kind,
  GitRepositorySpec,
  GitRepositoryStatus
>;

export const gitRepositoryKind = defineKind({
  names: GitRepositoryNames,
  scope: "Namespaced",
  description: "GitRepository produces an artifact from a Git repository at a reference.",
  spec: gitRepositorySpec,
  status: gitRepositoryStatus,
  printerColumns: [{ name: "URL", type: "string", jsonPath: ".spec.url" }, ageColumn, readyColumn, statusColumn],
});
