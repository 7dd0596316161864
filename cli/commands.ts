// Subcommands registered by features beyond the foundation (controllers, install, ...).
export type Command = (args: string[]) => Promise<number>;
import { controllersRun } from "./controllers-run";

export const commands: Record<string, Command> = {
  controllers: controllersRun,
  check: (args) => import("./check").then((m) => m.checkCommand(args)),
  install: (args) => import("./install-export").then((m) => m.installCommand(args)),
};
