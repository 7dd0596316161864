// The `gitops` Pulumi package for TypeScript programs: components and typed resources.
// The deploy-time work runs in the provider plugin (provider/bin/pulumi-resource-gitops).
export { Bootstrap, type BootstrapArgs } from "./components/bootstrap";
export { Install, type InstallArgs } from "./components/install";
export { BootstrapGit } from "./custom/bootstrap-git";
export { InstallManifests } from "./custom/install-manifests";
export { SshKeyPair } from "./custom/ssh-key-pair";
export * from "./custom/flux-resources";
export { renderInstall } from "./manifests/install";
export { renderBootstrapFiles } from "./manifests/sync";
