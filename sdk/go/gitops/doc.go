// Flux-compatible GitOps: bootstrap and install the controllers, and manage sources, Kustomizations, HelmReleases and notifications as typed resources.
package gitops
