// The OCIRepository controller definition: no secondary watches (the registry is polled at
// spec.interval; Secrets are read on each reconcile, as Flux does without the watch label).
import { OCIRepository } from "../../api/source/v1/oci-repository";
import { ControllerDefinition } from "../../runtime/controller";
import { ociRepositories, reconcileOCIRepository } from "./ocirepository-reconciler";
import { Storage } from "../../runtime/artifact-storage";

export function ociRepositoryController(storage: Storage): ControllerDefinition<OCIRepository> {
  return { name: "ocirepository", kind: ociRepositories, reconcile: reconcileOCIRepository({ storage }) };
}
