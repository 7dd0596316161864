/**
 * Debug log of the plugin (the engine shows a provider's stderr only at high verbosity): with
 * GITOPS_PROVIDER_LOG=<file>, decisions such as why a diff found changes are appended there.
 */
import * as fs from "node:fs";

export function debug(message: string): void {
  const file = process.env.GITOPS_PROVIDER_LOG;
  if (!file) return;
  try {
    fs.appendFileSync(file, `${new Date().toISOString()} [${process.pid}] ${message}\n`);
  } catch {
    /* best effort */
  }
}
