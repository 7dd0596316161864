// Structured JSON logs (pino) in the shape Flux's controllers print: "level" as a label,
// "ts" as RFC 3339, "msg"; child loggers carry controller and object fields.
import pino from "pino";
import { ObjectKey } from "./keys";

export type Logger = pino.Logger;
export type LogLevel = pino.LevelWithSilent;

const LEVELS: readonly string[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

export interface LoggerOptions {
  /** --log-level: trace, debug, info (default), warn, error, fatal, silent. */
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to capture them. */
  destination?: pino.DestinationStream;
  /** Fields on every line, e.g. { controller: "source-controller" }. */
  base?: Record<string, unknown>;
}

export function parseLogLevel(level: string | undefined): LogLevel {
  const l = (level ?? "info").toLowerCase();
  if (!LEVELS.includes(l)) throw new Error(`--log-level: unknown level "${level}" (one of ${LEVELS.join(", ")})`);
  return l as LogLevel;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return pino({
    level: parseLogLevel(opts.level),
    base: opts.base ?? null,
    messageKey: "msg",
    errorKey: "error",
    timestamp: () => `,"ts":"${new Date().toISOString()}"`,
    formatters: { level: (label) => ({ level: label }) },
  }, opts.destination ?? pino.destination({ dest: 1, sync: true }));
}

/** A logger that drops everything (the default where none is injected). */
export const silentLogger: Logger = pino({ level: "silent" });

/** The child logger of one controller (Flux: controller, controllerGroup, controllerKind). */
export function controllerLogger(log: Logger, controller: string, group: string, kind: string): Logger {
  return log.child({ controller, controllerGroup: group, controllerKind: kind });
}

/** The child logger of one reconcile of one object. */
export function objectLogger(log: Logger, kind: string, key: ObjectKey, reconcileID?: string): Logger {
  const ref = key.namespace ? { name: key.name, namespace: key.namespace } : { name: key.name };
  return log.child({ [kind]: ref, ...ref, ...(reconcileID ? { reconcileID } : {}) });
}
