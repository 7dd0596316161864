/** Input/Output typing helpers: args types derived from the schema values' static types. */
import type * as pulumi from "@pulumi/pulumi";

/** Every level may be an Input (a value, a promise or an Output). */
export type DeepInput<T> = pulumi.Input<
  T extends (infer U)[] ? DeepInput<U>[] : T extends Record<string, unknown> ? { [K in keyof T]: DeepInput<T[K]> } : T
>;

/** Args of a resource: each member of T as a deep Input, keeping optionality. */
export type InputsOf<T> = { [K in keyof T]: DeepInput<T[K]> };
