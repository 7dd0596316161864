// Where the real binaries built by scripts/setup-tools.sh live. One place, so the CLI, the
// controllers, the tests and the benchmarks all run the same versions.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import needs from "./tool-needs.json";

export const toolsDir = (): string => process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools");

export const repoRoot = path.resolve(__dirname, "..", "..");

/** Absolute path of a cached tool binary; throws a message that says how to get it. */
export function tool(name: string): string {
  const candidates = [path.join(toolsDir(), "bin", name), path.join(toolsDir(), "plugins", name)];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`${name} is not built yet: run 'bash scripts/setup-tools.sh' (it builds the real ${name} from Go modules into ${toolsDir()})`);
}

/** The cached files (relative to the tools directory) a command of cli/tool-needs.json needs. */
export function toolFilesFor(command: string): string[] {
  const commands = needs.commands as Record<string, string[]>;
  const tools = needs.tools as Record<string, string[]>;
  const out: string[] = [];
  const walk = (name: string): void => {
    if (commands[name]) for (const n of commands[name]) walk(n);
    else if (tools[name]) { if (name !== "node") for (const f of tools[name]) if (!out.includes(f)) out.push(f); }
    else throw new Error(`cli/tool-needs.json: unknown tool or command '${name}'`);
  };
  walk(command);
  return out;
}

/**
 * Start-up check of a command against cli/tool-needs.json, the list scripts/setup-tools.sh builds
 * from: one error naming everything missing, so a command never starts and fails later for a tool.
 */
export function requireTools(...commands: string[]): void {
  const missing = [...new Set(commands.flatMap(toolFilesFor))].filter((f) => !fs.existsSync(path.join(toolsDir(), f)));
  if (missing.length === 0) return;
  throw new Error(`${missing.map((f) => path.basename(f)).join(", ")} ${missing.length === 1 ? "is" : "are"} not built yet in ${toolsDir()} ` +
    `(needed by ${commands.join(", ")}): run 'bash scripts/setup-tools.sh ${commands.join(" ")}' (it builds them from Go modules)`);
}

export function hasTool(name: string): boolean {
  try { tool(name); return true; } catch { return false; }
}

/** Versions of the cached real components (from the setup script's version stamps). */
export function componentVersions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  for (const dir of ["bin", "plugins"]) {
    const d = path.join(toolsDir(), dir);
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d).filter((x) => x.startsWith(".") && x.endsWith(".version")).sort()) {
      const name = f.slice(1, -".version".length);
      if (name !== "node") out[name] = fs.readFileSync(path.join(d, f), "utf8").trim();
    }
  }
  return out;
}
