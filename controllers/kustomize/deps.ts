// What the Kustomization reconciler is given at startup (read once, never during reconcile).
import { EventRecorder } from "../runtime/events";
import { ArtifactFetcher } from "../runtime/artifact-fetcher";
import { ClientFactory } from "./clients";
import { SourceCache } from "./source";

export interface KustomizeDeps {
  fetcher: ArtifactFetcher;
  clients: ClientFactory;
  /** Events as `kustomize-controller`. */
  events: EventRecorder;
  sources: SourceCache;
  /** Paths of the kustomize and sops binaries. */
  kustomize: string;
  sops: string;
  /** Where build temp dirs go; default TMPDIR. */
  tmpRoot?: string;
  noCrossNamespaceRefs: boolean;
  /** --no-remote-bases. */
  noRemoteBases: boolean;
  allowExternalArtifact: boolean;
  /** StrictPostBuildSubstitutions feature gate. */
  strictSubstitutions: boolean;
  /** --requeue-dependency: retry delay while a source or dependency is not ready. */
  requeueDependencyMs: number;
  /** PlainBuildInProcess feature gate (default on): plain directories built without kustomize when equivalent. */
  plainBuildInProcess: boolean;
  /** AdditiveCELDependencyCheck feature gate: a dependsOn readyExpr is checked in addition to the built-in check. */
  additiveCelDependencyCheck: boolean;
  /** --concurrent-ssa. */
  concurrentSsa: number;
}
