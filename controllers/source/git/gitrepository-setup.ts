// The GitRepository controller definition. A GitRepository that includes another is rebuilt
// when the other's artifact changes (secondary watch on the same kind).
import { GitRepository } from "../../api/source/v1/git-repository";
import { ControllerDefinition } from "../../runtime/controller";
import { deepEqual } from "../../runtime/json-merge";
import { gitRepositories, reconcileGitRepository } from "./gitrepository-reconciler";
import { Storage } from "../../runtime/artifact-storage";

export function gitRepositoryController(storage: Storage): ControllerDefinition<GitRepository> {
  return {
    name: "gitrepository",
    kind: gitRepositories,
    reconcile: reconcileGitRepository({ storage }),
    watches: [{
      resource: gitRepositories,
      map: (ev, primary) => {
        const changed = ev.object as GitRepository;
        const prev = ev.previous as GitRepository | undefined;
        if (prev && deepEqual(prev.status?.artifact, changed.status?.artifact)) return [];
        return primary.list(changed.metadata.namespace)
          .filter((g) => g.spec.include?.some((i) => i.repository.name === changed.metadata.name))
          .map((g) => ({ namespace: g.metadata.namespace!, name: g.metadata.name! }));
      },
    }],
  };
}
