// What the last dry-run or apply of an object established: "this desired object, applied by
// this field manager, yields exactly the live object at resourceVersion R". While the live
// object is still at R and the desired object is the same, a new dry-run would answer the same,
// so it is skipped: an unchanged revision without drift costs the LIST of the live objects and
// no request per object. Any write by anyone changes the resourceVersion and brings the dry-run
// back; so do a new desired object, a restart (the memo is in memory) and a failed apply.
import { createHash } from "node:crypto";
import type { Unstructured } from "./object-id";

interface Entry { desired: string; resourceVersion: string }

export class ApplyMemo {
  readonly #entries = new Map<string, Entry>();
  readonly #max: number;

  /** `max` bounds memory: the oldest entries go first (about 200 bytes each). */
  constructor(max = 100_000) {
    this.#max = max;
  }

  get size(): number { return this.#entries.size; }

  has(key: string): boolean { return this.#entries.has(key); }

  /** True when `desired` was last seen to yield the live object at `live.metadata.resourceVersion`. */
  unchanged(key: string, desired: Unstructured, live: Unstructured | undefined): boolean {
    const e = this.#entries.get(key);
    const rv = live?.metadata?.resourceVersion;
    return !!e && !!rv && e.resourceVersion === rv && e.desired === digestOf(desired);
  }

  remember(key: string, desired: Unstructured, resourceVersion: string | undefined): void {
    if (!resourceVersion) return this.forget(key);
    this.#entries.delete(key);
    this.#entries.set(key, { desired: digestOf(desired), resourceVersion });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }
}

function digestOf(obj: Unstructured): string {
  return createHash("sha256").update(JSON.stringify(obj)).digest("base64");
}
