// image-reflector-controller: the ImageRepository and ImagePolicy controllers and the tag
// store they share. An ImagePolicy is re-evaluated when the scan result (its revision) of the
// ImageRepository it references changes, as Flux's watch does.
import * as os from "node:os";
import * as path from "node:path";
import type { ImagePolicy } from "../api/image/v1/image-policy";
import type { ImageRepository } from "../api/image/v1/image-repository";
import { ControllerDefinition } from "../runtime/controller";
import { imagePolicies, reconcileImagePolicy } from "./imagepolicy-reconciler";
import { imageRepositories, reconcileImageRepository } from "./imagerepository-reconciler";
import { TagStore } from "./tag-store";

export interface ImageReflectorFlags {
  /** Where scanned tags are kept (Flux: --storage-path, a badger DB); here one JSON file per ImageRepository. */
  storagePath: string;
  requeueDependencyMs?: number;
}

export const defaultImageReflectorFlags = (): ImageReflectorFlags => ({ storagePath: path.join(os.tmpdir(), "gitops-image-reflector") });

export interface ImageReflectorController { store: TagStore; definitions: ControllerDefinition<never>[] }

export function startImageReflectorController(flags: ImageReflectorFlags): ImageReflectorController {
  const store = new TagStore(flags.storagePath);
  const deps = { store, requeueDependencyMs: flags.requeueDependencyMs };
  const repos: ControllerDefinition<ImageRepository> = { name: "imagerepository", kind: imageRepositories, reconcile: reconcileImageRepository(deps) };
  const policies: ControllerDefinition<ImagePolicy> = {
    name: "imagepolicy", kind: imagePolicies, reconcile: reconcileImagePolicy(deps),
    watches: [{
      resource: imageRepositories,
      map: (ev, cache) => {
        const now = ev.object as ImageRepository;
        const prev = ev.previous as ImageRepository | undefined;
        if (ev.type === "updated" && (!now.status?.lastScanResult || prev?.status?.lastScanResult?.revision === now.status.lastScanResult.revision)) return [];
        return cache.list()
          .filter((p) => p.spec.imageRepositoryRef.name === now.metadata.name && (p.spec.imageRepositoryRef.namespace || p.metadata.namespace) === now.metadata.namespace)
          .map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name! }));
      },
    }],
  };
  return { store, definitions: [repos, policies] as ControllerDefinition<never>[] };
}
