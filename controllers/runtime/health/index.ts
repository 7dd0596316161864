// Health assessment of live objects (kstatus). Re-exports only.
export * from "./custom";
export * from "./kstatus";
export * from "./result";
export * from "./workloads";
