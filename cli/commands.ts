// Subcommands registered by features beyond the foundation (controllers, install, ...).
export type Command = (args: string[]) => Promise<number>;
export const commands: Record<string, Command> = {};
