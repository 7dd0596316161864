// source-controller: the GitRepository controller, its artifact storage and the HTTP server
// that serves the artifacts, as one unit the manager runs.
import * as path from "node:path";
import * as os from "node:os";
import { GitRepository } from "../api/source/v1/git-repository";
import { ControllerDefinition } from "../runtime/controller";
import { deepEqual } from "../runtime/json-merge";
import { ArtifactServer, serveArtifacts } from "./artifact-server";
import { gitRepositories, reconcileGitRepository } from "./gitrepository-reconciler";
import { helmChartController } from "./helmchart-setup";
import { helmRepositoryController } from "./helmrepository-setup";
import { ociRepositoryController } from "./ocirepository-setup";
import { Storage } from "./storage";

export interface SourceControllerFlags {
  storagePath: string;
  storageAddr: string;
  /** Host:port written into artifact URLs; default: the bound storage address. */
  storageAdvAddr?: string;
  artifactRetentionRecords: number;
}

export const defaultSourceFlags = (): SourceControllerFlags => ({
  storagePath: path.join(os.tmpdir(), "gitops-source-storage"),
  storageAddr: ":9090",
  artifactRetentionRecords: 2,
});

export interface SourceController {
  storage: Storage;
  server: ArtifactServer;
  definitions: ControllerDefinition<never>[];
  close(): Promise<void>;
}

export async function startSourceController(flags: SourceControllerFlags): Promise<SourceController> {
  const server = await serveArtifacts(flags.storagePath, flags.storageAddr);
  const [, boundPort] = server.address.split(/:(?=\d+$)/);
  const advertised = flags.storageAdvAddr
    ? flags.storageAdvAddr.replace(/:0$/, `:${boundPort}`)
    : `${server.address.startsWith("0.0.0.0") || server.address.startsWith("::") ? "127.0.0.1" : server.address.split(/:(?=\d+$)/)[0]}:${boundPort}`;
  const storage = new Storage(flags.storagePath, advertised, flags.artifactRetentionRecords);
  const gitRepository: ControllerDefinition<GitRepository> = {
    name: "gitrepository",
    kind: gitRepositories,
    reconcile: reconcileGitRepository({ storage }),
    watches: [{
      // A GitRepository that includes another is rebuilt when the other's artifact changes.
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
  return {
    storage, server,
    definitions: [gitRepository, ociRepositoryController(storage), helmRepositoryController(storage), helmChartController(storage)] as ControllerDefinition<never>[],
    close: () => server.close(),
  };
}
