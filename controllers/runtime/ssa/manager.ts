// The server-side apply resource manager shared by the kustomize and helm controllers: one
// per target cluster identity (client + REST mapper) and owner. The verbs live one per file:
// manager-apply.ts, manager-existing.ts (drift), manager-delete.ts, manager-wait.ts.
import { KubeClient } from "../kube";
import { Logger, silentLogger } from "../logger";
import { ApplyOptions, applyAllStaged } from "./manager-apply";
import { DeleteOptions, deleteAll } from "./manager-delete";
import { WaitOptions, waitForSet, waitForTermination } from "./manager-wait";
import { ChangeSetEntry } from "./changeset";
import { ObjMetadata, Unstructured } from "./object-id";
import { RestMapper } from "./rest-mapper";
import type { ApplyMemo } from "./apply-memo";

export interface ResourceManagerOptions {
  client: KubeClient;
  mapper: RestMapper;
  /** Field manager of applied fields, e.g. `kustomize-controller`. */
  fieldManager: string;
  /** Requests in flight per set (--concurrent-ssa). Default 4. */
  concurrency?: number;
  /** Labels every applied object carries (e.g. kustomize.toolkit.fluxcd.io/name): found by LIST, required for delete. */
  ownerLabels?: Record<string, string>;
  log?: Logger;
  /** Kept across reconciles (one per target identity): lets an unchanged object skip its dry-run. */
  memo?: ApplyMemo;
}

/** An inventory-style reference: identity plus apiVersion. */
export interface ObjectRef extends ObjMetadata {
  readonly apiVersion: string;
}

export class ResourceManager {
  readonly client: KubeClient;
  readonly mapper: RestMapper;
  readonly fieldManager: string;
  readonly concurrency: number;
  readonly ownerLabels?: Record<string, string>;
  readonly log: Logger;
  readonly memo?: ApplyMemo;

  constructor(o: ResourceManagerOptions) {
    this.client = o.client;
    this.mapper = o.mapper;
    this.fieldManager = o.fieldManager;
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.ownerLabels = o.ownerLabels;
    this.log = o.log ?? silentLogger;
    this.memo = o.memo;
  }

  /** Validates the whole set with a server-side dry-run, then applies it in stages. */
  applyAllStaged(objects: Unstructured[], opts: ApplyOptions = {}): Promise<ChangeSetEntry[]> {
    return applyAllStaged(this, objects, opts);
  }

  /** Deletes objects (reverse apply order) that still carry the owner labels. */
  deleteAll(refs: ObjectRef[], opts: DeleteOptions = {}): Promise<ChangeSetEntry[]> {
    return deleteAll(this, refs, opts);
  }

  /** Waits until every object is Current (kstatus); throws with the laggards otherwise. */
  waitForSet(refs: ObjectRef[], opts: WaitOptions): Promise<void> {
    return waitForSet(this, refs, opts);
  }

  waitForTermination(refs: ObjectRef[], opts: WaitOptions): Promise<void> {
    return waitForTermination(this, refs, opts);
  }
}
