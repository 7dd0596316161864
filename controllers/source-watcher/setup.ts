// source-watcher: the ArtifactGenerator controller. It stores artifacts with source-controller's
// storage (shared when both run in one process, else its own storage and artifact server,
// with the same flags) and watches every source kind for new artifact revisions.
import * as fs from "node:fs";
import type { ArtifactGenerator } from "../api/source-extensions/v1beta1/artifact-generator";
import { ArtifactFetcher } from "../runtime/artifact-fetcher";
import { serveArtifacts, type ArtifactServer } from "../runtime/artifact-server";
import { Storage } from "../runtime/artifact-storage";
import type { ControllerDefinition, SecondaryWatch } from "../runtime/controller";
import type { Artifact } from "../runtime/artifact-storage";
import { artifactGenerators, reconcileArtifactGenerator, sourceKinds } from "./artifact-generator-reconciler";

export interface SourceWatcherOptions {
  /** source-controller's storage, when it runs in the same process. */
  storage?: Storage;
  storagePath: string;
  storageAddr: string;
  storageAdvAddr?: string;
  artifactRetentionRecords: number;
  noCrossNamespaceRefs?: boolean;
  requeueDependencyMs?: number;
}

export interface SourceWatcher {
  storage: Storage;
  server?: ArtifactServer;
  definitions: ControllerDefinition<never>[];
  close(): Promise<void>;
}

type Src = { metadata?: { name?: string; namespace?: string }; status?: { artifact?: Artifact } };

/** A source with a new artifact revision (or a new or deleted source with one) enqueues the generators using it. */
function sourceWatch(kind: string): SecondaryWatch<ArtifactGenerator> {
  return {
    resource: sourceKinds[kind]!,
    map: (ev, primary) => {
      const now = (ev.object as Src).status?.artifact;
      const before = (ev.previous as Src | undefined)?.status?.artifact;
      if (!now) return [];
      if (ev.type === "updated" && before && before.revision === now.revision) return [];
      const { name, namespace } = (ev.object as Src).metadata ?? {};
      return primary.list().filter((g) => g.spec.sources.some((s) => s.kind === kind && s.name === name && (s.namespace || g.metadata.namespace) === namespace))
        .map((g) => ({ namespace: g.metadata.namespace!, name: g.metadata.name! }));
    },
  };
}

export async function startSourceWatcher(o: SourceWatcherOptions): Promise<SourceWatcher> {
  let storage = o.storage;
  let server: ArtifactServer | undefined;
  if (!storage) {
    fs.mkdirSync(o.storagePath, { recursive: true });
    server = await serveArtifacts(o.storagePath, o.storageAddr);
    const port = server.address.split(/:(?=\d+$)/)[1];
    const host = server.address.startsWith("0.0.0.0") || server.address.startsWith("::") ? "127.0.0.1" : server.address.split(/:(?=\d+$)/)[0];
    storage = new Storage(o.storagePath, o.storageAdvAddr ? o.storageAdvAddr.replace(/:0$/, `:${port}`) : `${host}:${port}`, o.artifactRetentionRecords);
  }
  const fetcher = new ArtifactFetcher({ hostOverride: process.env.SOURCE_CONTROLLER_LOCALHOST || undefined });
  const def: ControllerDefinition<ArtifactGenerator> = {
    name: "artifactgenerator",
    kind: artifactGenerators,
    reconcile: reconcileArtifactGenerator({ storage, fetcher, noCrossNamespaceRefs: o.noCrossNamespaceRefs ?? false, requeueDependencyMs: o.requeueDependencyMs ?? 5000 }),
    watches: Object.keys(sourceKinds).map(sourceWatch),
  };
  return {
    storage, server,
    definitions: [def as unknown as ControllerDefinition<never>],
    close: async () => { fetcher.close(); await server?.close(); },
  };
}
