/** A mistake in the command line: printed with the usage. */
export class UsageError extends Error {}
