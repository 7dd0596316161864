// Custom health checks from CEL (Kustomization spec.healthCheckExprs): per group (and kind), the
// expressions `inProgress`, `failed`, `current` are evaluated in that order against the object
// (its top-level fields are the variables); the first true decides, none true is InProgress.
// A stale status.observedGeneration is InProgress before any expression, as in Flux. An
// expression that fails to evaluate (a field not there yet) leaves the status Unknown, so the
// wait goes on until the timeout and then names the error.
import { CelError, compileObjectBool } from "../cel";
import { HealthResult, HealthStatus, Obj, current, failed, field, inProgress } from "./result";

/** One entry of spec.healthCheckExprs. */
export interface CustomHealthCheck {
  apiVersion: string;
  kind?: string;
  current: string;
  inProgress?: string;
  failed?: string;
}

/** Reads the status of an object, or undefined when no custom check covers its kind. */
export type StatusReader = (obj: Obj) => HealthResult | undefined;

/** A healthCheckExprs entry that cannot be used: a configuration error (InvalidCELExpression). */
export class InvalidHealthCheckError extends Error {
  override readonly name = "InvalidHealthCheckError";
}

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");
/** Kubernetes' GroupKind.String(): `Kind.group` (`.group` for a group-only entry). */
const groupKind = (group: string, kind: string) => (group ? `${kind}.${group}` : kind);

type Evaluator = (obj: Obj) => HealthResult;

/** Compiles the checks; InvalidHealthCheckError names the entry and the expression at fault. */
export function celStatusReader(checks: readonly CustomHealthCheck[]): StatusReader | undefined {
  if (checks.length === 0) return undefined;
  const evaluators = new Map<string, Evaluator>();
  checks.forEach((c, i) => {
    const key = groupKind(groupOf(c.apiVersion), c.kind ?? "");
    if (evaluators.has(key)) throw new InvalidHealthCheckError(`duplicate custom health check for GroupKind ${key} at healthchecks[${i}]`);
    try {
      evaluators.set(key, evaluator(c));
    } catch (e) {
      if (!(e instanceof CelError || e instanceof InvalidHealthCheckError)) throw e;
      throw new InvalidHealthCheckError(`failed to create custom status evaluator for healthchecks[${i}]: ${e.message}`);
    }
  });
  return (obj) => {
    const group = groupOf(String(obj.apiVersion ?? ""));
    const e = evaluators.get(groupKind(group, String(obj.kind ?? ""))) ?? evaluators.get(groupKind(group, ""));
    return e?.(obj);
  };
}

function evaluator(c: CustomHealthCheck): Evaluator {
  if (!c.current) throw new InvalidHealthCheckError("expression Current not specified");
  const compile = (name: string, src: string | undefined) => {
    if (!src) return undefined;
    try {
      return { src, test: compileObjectBool(src) };
    } catch (e) {
      if (!(e instanceof CelError)) throw e;
      throw new InvalidHealthCheckError(`failed to parse the expression ${name}: failed to parse the CEL expression '${src}': ${e.message}`);
    }
  };
  const steps = [
    { expr: compile("InProgress", c.inProgress), result: () => inProgress("custom health check: inProgress expression is true") },
    { expr: compile("Failed", c.failed), result: () => failed("custom health check: failed expression is true") },
    { expr: compile("Current", c.current), result: () => current("custom health check: current expression is true") },
  ];
  return (obj) => {
    const generation = field(obj, "metadata.generation");
    const observed = field(obj, "status.observedGeneration");
    if (Number.isInteger(generation) && Number.isInteger(observed) && generation !== observed) {
      return inProgress(`${String(obj.kind)} generation is ${generation}, but latest observed generation is ${observed}`);
    }
    for (const s of steps) {
      if (!s.expr) continue;
      try {
        if (s.expr.test(obj)) return s.result();
      } catch (e) {
        if (!(e instanceof CelError)) throw e;
        return { status: HealthStatus.Unknown, message: `failed to evaluate the CEL expression '${s.expr.src}': ${e.message}` };
      }
    }
    return inProgress("custom health check: no expression is true");
  };
}
