// image-automation-controller: the ImageUpdateAutomation controller. An automation runs again
// when an ImagePolicy in its namespace selects a new image, or when the GitRepository it
// uses changes (spec or artifact), besides its own interval.
import type { ImagePolicy } from "../api/image/v1/image-policy";
import type { ImageUpdateAutomation } from "../api/image/v1/image-update-automation";
import type { GitRepository } from "../api/source/v1/git-repository";
import { ControllerDefinition } from "../runtime/controller";
import { deepEqual } from "../runtime/json-merge";
import { AutomationDeps, gitRepositoriesRes, imagePoliciesRes, imageUpdateAutomations, reconcileImageUpdateAutomation } from "./reconciler";

export interface ImageAutomationFlags { noCrossNamespaceRefs?: boolean }

export function imageAutomationControllers(flags: ImageAutomationFlags = {}): ControllerDefinition<never>[] {
  const deps: AutomationDeps = { noCrossNamespaceRefs: flags.noCrossNamespaceRefs };
  const def: ControllerDefinition<ImageUpdateAutomation> = {
    name: "imageupdateautomation",
    kind: imageUpdateAutomations,
    reconcile: reconcileImageUpdateAutomation(deps),
    watches: [
      {
        resource: imagePoliciesRes,
        map: (ev, cache) => {
          const now = ev.object as ImagePolicy;
          const prev = ev.previous as ImagePolicy | undefined;
          if (ev.type === "updated" && deepEqual(prev?.status?.latestRef, now.status?.latestRef)) return [];
          return cache.list(now.metadata.namespace).map((a) => ({ namespace: a.metadata.namespace!, name: a.metadata.name! }));
        },
      },
      {
        resource: gitRepositoriesRes,
        map: (ev, cache) => {
          const now = ev.object as GitRepository;
          const prev = ev.previous as GitRepository | undefined;
          if (ev.type === "updated" && prev && deepEqual(prev.spec, now.spec) && deepEqual(prev.status?.artifact?.revision, now.status?.artifact?.revision)) return [];
          return cache.list()
            .filter((a) => a.spec.sourceRef.name === now.metadata.name && (a.spec.sourceRef.namespace || a.metadata.namespace) === now.metadata.namespace)
            .map((a) => ({ namespace: a.metadata.namespace!, name: a.metadata.name! }));
        },
      },
    ],
  };
  return [def] as ControllerDefinition<never>[];
}
