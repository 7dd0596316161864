// source-controller: the source kinds' controllers, their artifact storage and the HTTP
// server that serves the artifacts, as one unit the manager runs.
import * as path from "node:path";
import * as os from "node:os";
import { ControllerDefinition } from "../runtime/controller";
import { ArtifactServer, serveArtifacts } from "../runtime/artifact-server";
import { bucketController } from "./bucket/bucket-setup";
import { gitRepositoryController } from "./git/gitrepository-setup";
import { helmChartController } from "./helm/helmchart-setup";
import { helmRepositoryController } from "./helm/helmrepository-setup";
import { ociRepositoryController } from "./oci/ocirepository-setup";
import { Storage } from "../runtime/artifact-storage";

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
  return {
    storage, server,
    definitions: [gitRepositoryController(storage), ociRepositoryController(storage), helmRepositoryController(storage), helmChartController(storage), bucketController(storage)] as ControllerDefinition<never>[],
    close: () => server.close(),
  };
}
