/**
 * Property values as the engine exchanges them with a provider that accepts secrets: secret
 * values arrive wrapped in a signature object, and values returned wrapped stay secret in state.
 */
import { UnknownValue, containsUnknown } from "../schema/validate";

const SigKey = "4dabf18193072939515e22adb298388d";
const SecretSig = "1b47061264138c4ac30d75fd1eb44270";
const ResourceSig = "5cf8f73096256a8f31e491e813e4eb8e";

export type Props = Record<string, unknown>;

function isSecret(v: unknown): v is { value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SigKey] === SecretSig;
}

/** A copy with every secret unwrapped (and resource references reduced to their URN). */
export function unwrap<T = unknown>(v: unknown): T {
  if (isSecret(v)) return unwrap(v.value);
  if (Array.isArray(v)) return v.map((x) => unwrap(x)) as T;
  if (v && typeof v === "object") {
    if ((v as Record<string, unknown>)[SigKey] === ResourceSig) return (v as { urn?: unknown }).urn as T;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = unwrap(x);
    return out as T;
  }
  return v as T;
}

/** Marks `v` secret in what a provider returns. */
export function secret(v: unknown): unknown {
  if (v === undefined || v === null) return v;
  return { [SigKey]: SecretSig, value: v };
}

/** `props` with the named keys marked secret. */
export function withSecrets(props: Props, keys: readonly string[]): Props {
  const out: Props = { ...props };
  for (const k of keys) if (out[k] !== undefined) out[k] = secret(out[k]);
  return out;
}

/** Drops undefined members (the engine rejects them). */
export function compact<T extends Props>(p: T): T {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as T;
}

export { UnknownValue, containsUnknown };

/** Stable JSON for comparisons (object keys sorted). */
export function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b))) : x));
}

export function same(a: unknown, b: unknown): boolean {
  return stable(a ?? null) === stable(b ?? null);
}

/** The name part of a URN (`...::name`). */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The type token of a URN (last `$`-separated type before the name). */
export function urnType(urn: string): string {
  const parts = urn.split("::");
  const qualified = parts[parts.length - 2] ?? "";
  return qualified.slice(qualified.lastIndexOf("$") + 1);
}

/** Error that leaves the resource in state with `properties` (created, but not initialised). */
export class PartialError extends Error {
  constructor(message: string, readonly id: string, readonly properties: Props, readonly reasons: string[] = [message]) {
    super(message);
    this.name = "PartialError";
  }
}
