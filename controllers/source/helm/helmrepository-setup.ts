// The HelmRepository controller definition: the index is polled at spec.interval.
import { HelmRepository } from "../../api/source/v1/helm-repository";
import { ControllerDefinition } from "../../runtime/controller";
import { helmRepositories, reconcileHelmRepository } from "./helmrepository-reconciler";
import { Storage } from "../../runtime/artifact-storage";

export function helmRepositoryController(storage: Storage): ControllerDefinition<HelmRepository> {
  return { name: "helmrepository", kind: helmRepositories, reconcile: reconcileHelmRepository({ storage }) };
}
