/** What a custom resource implementation provides; the provider dispatches to it by type token. */
import type * as pulumi from "@pulumi/pulumi";
import type { Failure } from "../schema/validate";
import type { Props } from "./props";

export interface ResourceHandler {
  /** Validates and normalises inputs (secrets already unwrapped; unknowns possible). */
  check(urn: string, olds: Props, news: Props): Promise<{ inputs: Props; failures: Failure[] }>;
  diff(id: string, urn: string, olds: Props, news: Props): Promise<pulumi.provider.DiffResult>;
  create(urn: string, inputs: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, urn: string, props: Props): Promise<{ id?: string; props?: Props; inputs?: Props }>;
  update(id: string, urn: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, urn: string, props: Props): Promise<void>;
  /** Output keys to mark secret in state. */
  readonly secretKeys: readonly string[];
}
