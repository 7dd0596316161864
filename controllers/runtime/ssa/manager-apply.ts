// Staged server-side apply of a set of objects. The whole set is validated first with a
// server-side dry-run, so an invalid object means nothing is applied; objects that cannot be
// validated yet (their CRD or Namespace is in the set and not created) are validated right
// after their stage. Then stage by stage: cluster definitions (CRDs, Namespaces, ClusterRoles)
// and waits for them, classes (*Class) and waits, then everything else. Only objects whose
// dry-run differs from the live object are applied.
import { Action, ChangeSetEntry, changeSetEntry } from "./changeset";
import { DryRunError, SsaError, apiMessage, isImmutableError } from "./errors";
import { mapLimit, mapLimitSettled } from "./limit";
import type { ResourceManager } from "./manager";
import { Desired, existingKey, fetchExisting, getExisting, hasDrifted } from "./manager-existing";
import { anyInMetadata } from "./metadata";
import { ObjMetadata, Unstructured, formatObjMetadata, groupOf, objMetadataOf } from "./object-id";
import { NoKindMatchError } from "./rest-mapper";
import { sortForApply } from "./sort";
import { recreate } from "./manager-recreate";
import { JsonPatchOp, cleanupPatch } from "./manager-cleanup";
import { PatchType } from "../kube";

export interface ApplyOptions {
  /** Recreate objects whose immutable fields changed (spec.force). */
  force?: boolean;
  /** Per-object force, e.g. `kustomize.toolkit.fluxcd.io/force: Enabled`. */
  forceSelector?: Record<string, string>;
  /** Objects never applied, e.g. `kustomize.toolkit.fluxcd.io/ssa: Ignore`. */
  exclusionSelector?: Record<string, string>;
  /** Objects applied only when absent, e.g. `kustomize.toolkit.fluxcd.io/ssa: IfNotPresent`. */
  ifNotPresentSelector?: Record<string, string>;
  /** Objects whose hand-edited fields are left alone, e.g. `kustomize.toolkit.fluxcd.io/ssa: Merge`. */
  cleanupExclusions?: Record<string, string>;
  /** Take back fields owned by kubectl and friends (manager-cleanup.ts). Default true. */
  cleanup?: boolean;
  /** How long to wait for CRDs, Namespaces and classes to be ready. Default 60 s. */
  waitTimeoutMs?: number;
  signal?: AbortSignal;
}

/** A failed apply; `changeSet` holds what was applied before the failure. */
export class ApplyError extends SsaError {
  override readonly name = "ApplyError";
  constructor(message: string, readonly changeSet: ChangeSetEntry[], subject?: string, options?: ErrorOptions) {
    super(message, subject, options);
  }
}

interface Item extends Partial<Desired> {
  obj: Unstructured;
  id: ObjMetadata;
  subject: string;
  stage: number;
  deferred: boolean;
  existing?: Unstructured;
  action?: Action;
  recreate?: boolean;
  cleanup?: JsonPatchOp[];
}

const isCrd = (o: Unstructured) => o.kind === "CustomResourceDefinition" && groupOf(o.apiVersion) === "apiextensions.k8s.io";
const stageOf = (o: Unstructured): number =>
  isCrd(o) || (o.kind === "Namespace" && o.apiVersion === "v1") || (o.kind === "ClusterRole" && groupOf(o.apiVersion) === "rbac.authorization.k8s.io") ? 0
    : o.kind.endsWith("Class") ? 1 : 2;

export async function applyAllStaged(m: ResourceManager, objects: Unstructured[], opts: ApplyOptions): Promise<ChangeSetEntry[]> {
  const signal = opts.signal;
  const items: Item[] = sortForApply(objects.map((obj) => {
    const id = objMetadataOf(obj);
    return { obj, id, subject: formatObjMetadata(id), stage: stageOf(obj), deferred: false };
  }), (i) => i.id);
  const definedKinds = new Set(items.filter((i) => isCrd(i.obj)).map((i) => crdKey(i.obj)));
  const createdNamespaces = new Set(items.filter((i) => i.obj.kind === "Namespace").map((i) => i.id.name));

  // Mappings: a kind defined by a CRD of this set is resolved after the CRD stage.
  const errors: string[] = [];
  await mapLimit(items, m.concurrency, async (it) => {
    it.mapping = await m.mapper.tryMapping(it.obj.apiVersion, it.obj.kind, signal);
    if (it.mapping) {
      clusterScoped(it);
      return;
    }
    if (definedKinds.has(`${groupOf(it.obj.apiVersion)}/${it.obj.kind}`)) it.deferred = true;
    else errors.push(new DryRunError(it.subject, new NoKindMatchError(it.obj.apiVersion, it.obj.kind)).message);
  });
  if (errors.length) throw new ApplyError(joinErrors(errors), []);

  const ready = items.filter((i) => !i.deferred);
  // The live objects are read while the dry-runs run: they are needed only to compare.
  const existing = fetchExisting(m, ready as Desired[], signal).then((found) => {
    for (const it of ready) it.existing = found.get(existingKey(it.mapping!, it.obj.metadata?.namespace ?? "", it.id.name));
  });
  existing.catch(() => undefined);
  await validate(m, ready, opts, createdNamespaces, true, existing);

  const done: ChangeSetEntry[] = [];
  for (const stage of [0, 1, 2]) {
    const inStage = items.filter((i) => i.stage === stage);
    if (inStage.length === 0) continue;
    const late = inStage.filter((i) => i.deferred);
    if (late.length) {
      try {
        await mapLimit(late, m.concurrency, async (it) => {
          it.mapping = await m.mapper.mapping(it.obj.apiVersion, it.obj.kind, signal);
          clusterScoped(it);
          it.existing = await getExisting(m, it as Desired, signal);
        });
        await validate(m, late, opts, new Set(), false, Promise.resolve());
      } catch (e) {
        throw e instanceof ApplyError ? new ApplyError(e.message, [...done], e.subject, { cause: e })
          : new ApplyError(e instanceof NoKindMatchError ? new DryRunError(late[0].subject, e).message : apiMessage(e), [...done], undefined, { cause: e });
      }
    }
    await mapLimit(inStage, m.concurrency, async (it) => {
      if (it.action !== Action.Created && it.action !== Action.Configured) return;
      try {
        m.memo?.forget(memoKey(m, it));
        if (it.recreate) await recreate(m, it as Desired, it.existing!, opts);
        else if (it.cleanup) await m.client.patch(it.mapping!, keyOf(it), it.cleanup, { type: PatchType.Json, fieldManager: m.fieldManager, signal });
        const applied = await m.client.apply<Unstructured>(it.mapping!, it.obj, { fieldManager: m.fieldManager, force: true, signal });
        if (!it.recreate) m.memo?.remember(memoKey(m, it), it.obj, applied?.metadata?.resourceVersion);
      } catch (e) {
        throw new ApplyError(`${it.subject} apply failed: ${apiMessage(e)}`, [...done], it.subject, { cause: e });
      }
    }).catch((e: unknown) => { throw e instanceof ApplyError ? e : new ApplyError(apiMessage(e), [...done], undefined, { cause: e }); });
    done.push(...entries(inStage));
    if (stage < 2) {
      if (inStage.some((i) => isCrd(i.obj))) m.mapper.invalidate();
      const refs = inStage.filter((i) => i.action !== Action.Skipped).map((i) => ({ ...i.id, apiVersion: i.obj.apiVersion }));
      try {
        await m.waitForSet(refs, { timeoutMs: opts.waitTimeoutMs ?? 60_000, intervalMs: 250, signal });
      } catch (e) {
        throw new ApplyError(apiMessage(e), [...done], undefined, { cause: e });
      }
    }
  }
  return done;
}

/**
 * Skip policies, then a dry-run of every remaining item; sets `action`. `existing` resolves
 * once the items' live objects are known (they are read concurrently with the dry-runs).
 * Throws on any refusal.
 */
async function validate(m: ResourceManager, items: Item[], opts: ApplyOptions, newNamespaces: Set<string>, early: boolean, existing: Promise<void>): Promise<void> {
  const signal = opts.signal;
  const results = await mapLimitSettled(items, m.concurrency, async (it) => {
    const skip = () => { it.action = Action.Skipped; };
    if (anyInMetadata(it.obj, opts.exclusionSelector)) return skip();
    if (anyInMetadata(it.obj, opts.ifNotPresentSelector)) {
      await existing;
      it.existing ??= await getExisting(m, it as Desired, signal);
      if (it.existing) return skip();
    }
    // Seen before: when the live object is still where our last dry-run or apply left it, the
    // answer is known (apply-memo.ts); the LIST of live objects is awaited to tell.
    if (m.memo?.has(memoKey(m, it))) {
      await existing;
      if (!anyInMetadata(it.existing, opts.exclusionSelector) && m.memo.unchanged(memoKey(m, it), it.obj, it.existing)) {
        if (!cleanupFor(m, it, opts)) {
          it.action = Action.Unchanged;
          return;
        }
      }
    }
    let dry: Unstructured | undefined;
    let failure: unknown;
    try {
      dry = await m.client.apply<Unstructured>(it.mapping!, it.obj, { fieldManager: m.fieldManager, force: true, dryRun: true, signal });
    } catch (e) {
      failure = e;
    }
    await existing;
    if (anyInMetadata(it.existing, opts.exclusionSelector)) return skip();
    if (dry) {
      it.cleanup = cleanupFor(m, it, opts);
      it.action = !dry.metadata?.resourceVersion ? Action.Created : hasDrifted(it.existing, dry) || it.cleanup ? Action.Configured : Action.Unchanged;
      if (it.action === Action.Unchanged) m.memo?.remember(memoKey(m, it), it.obj, it.existing?.metadata?.resourceVersion);
      return;
    }
    const ns = it.obj.metadata?.namespace ?? "";
    if (early && it.mapping!.namespaced && newNamespaces.has(ns) && isNotFoundError(failure)) {
      it.deferred = true;
      return;
    }
    const forced = opts.force || anyInMetadata(it.obj, opts.forceSelector) || anyInMetadata(it.existing, opts.forceSelector);
    if (forced && isImmutableError(failure)) {
      it.existing ??= await getExisting(m, it as Desired, signal);
      if (it.existing) {
        it.recreate = true;
        it.action = Action.Configured;
        return;
      }
    }
    throw new DryRunError(it.subject, failure, it.mapping!.namespaced, ns);
  });
  const errors = results.flatMap((r) => (r.ok ? [] : [(r.error as Error).message]));
  if (errors.length) throw new ApplyError(joinErrors(errors), []);
}

function entries(items: Item[]): ChangeSetEntry[] {
  return items.filter((i) => i.action).map((i) => changeSetEntry(i.id, i.obj.apiVersion, i.action!));
}

/** kustomize sets a namespace on kinds it does not know; the API server drops it on cluster-scoped ones, so do we. */
function clusterScoped(it: Item): void {
  if (it.mapping!.namespaced || !it.obj.metadata?.namespace) return;
  delete it.obj.metadata.namespace;
  it.id = objMetadataOf(it.obj);
  it.subject = formatObjMetadata(it.id);
}

/** The patch taking back fields of kubectl and friends, unless cleanup is off or the object opts out (ssa: Merge). */
function cleanupFor(m: ResourceManager, it: Item, opts: ApplyOptions): JsonPatchOp[] | undefined {
  const merge = anyInMetadata(it.obj, opts.cleanupExclusions) || anyInMetadata(it.existing, opts.cleanupExclusions);
  return it.existing && opts.cleanup !== false && !merge ? cleanupPatch(it.existing, m.fieldManager) : undefined;
}

function memoKey(m: ResourceManager, it: Item): string {
  return `${m.fieldManager}|${existingKey(it.mapping!, it.obj.metadata?.namespace ?? "", it.id.name)}`;
}

function keyOf(it: Item): { namespace: string; name: string } {
  return { namespace: it.mapping!.namespaced ? it.obj.metadata?.namespace ?? "" : "", name: it.id.name };
}

function crdKey(crd: Unstructured): string {
  const spec = crd.spec as { group?: string; names?: { kind?: string } } | undefined;
  return `${spec?.group ?? ""}/${spec?.names?.kind ?? ""}`;
}

function isNotFoundError(e: unknown): boolean {
  return (e as { statusCode?: number })?.statusCode === 404;
}

/** Unique messages, one per line, at most ten. */
export function joinErrors(errors: string[]): string {
  const unique = [...new Set(errors)];
  const shown = unique.slice(0, 10).join("\n");
  return unique.length > 10 ? `${shown}\n... and ${unique.length - 10} more` : shown;
}
