// The command-line flags every controller shares, with Flux's names and defaults. Read once
// at startup; controller-specific flags are returned untouched in `rest`.
import { parseDuration } from "./duration";

export interface RuntimeFlags {
  concurrent: number;
  kubeApiQps: number;
  kubeApiBurst: number;
  logLevel: string;
  metricsAddr: string;
  healthAddr: string;
  enableLeaderElection: boolean;
  leaderElectionLeaseDurationMs: number;
  leaderElectionRenewDeadlineMs: number;
  leaderElectionRetryPeriodMs: number;
  leaderElectionReleaseOnCancel: boolean;
  watchAllNamespaces: boolean;
  watchLabelSelector: string;
  requeueDependencyMs: number;
  intervalJitterPercentage: number;
  gracefulShutdownTimeoutMs: number;
}

export const defaultRuntimeFlags: Readonly<RuntimeFlags> = {
  concurrent: 4,
  kubeApiQps: 50,
  kubeApiBurst: 300,
  logLevel: "info",
  metricsAddr: ":8080",
  healthAddr: ":9440",
  enableLeaderElection: false,
  leaderElectionLeaseDurationMs: 35_000,
  leaderElectionRenewDeadlineMs: 30_000,
  leaderElectionRetryPeriodMs: 5_000,
  leaderElectionReleaseOnCancel: true,
  watchAllNamespaces: true,
  watchLabelSelector: "",
  requeueDependencyMs: 30_000,
  intervalJitterPercentage: 5,
  gracefulShutdownTimeoutMs: 30_000,
};

type Kind = "int" | "float" | "bool" | "string" | "duration";
const SPEC: Record<string, [keyof RuntimeFlags, Kind]> = {
  "concurrent": ["concurrent", "int"],
  "kube-api-qps": ["kubeApiQps", "float"],
  "kube-api-burst": ["kubeApiBurst", "int"],
  "log-level": ["logLevel", "string"],
  "metrics-addr": ["metricsAddr", "string"],
  "health-addr": ["healthAddr", "string"],
  "enable-leader-election": ["enableLeaderElection", "bool"],
  "leader-election-lease-duration": ["leaderElectionLeaseDurationMs", "duration"],
  "leader-election-renew-deadline": ["leaderElectionRenewDeadlineMs", "duration"],
  "leader-election-retry-period": ["leaderElectionRetryPeriodMs", "duration"],
  "leader-election-release-on-cancel": ["leaderElectionReleaseOnCancel", "bool"],
  "watch-all-namespaces": ["watchAllNamespaces", "bool"],
  "watch-label-selector": ["watchLabelSelector", "string"],
  "requeue-dependency": ["requeueDependencyMs", "duration"],
  "interval-jitter-percentage": ["intervalJitterPercentage", "int"],
  "graceful-shutdown-timeout": ["gracefulShutdownTimeoutMs", "duration"],
};

/** Parses `--flag=value`, `--flag value` and bare boolean `--flag`; other arguments go to `rest`. */
export function parseRuntimeFlags(argv: readonly string[], defaults: Partial<RuntimeFlags> = {}): { flags: RuntimeFlags; rest: string[] } {
  const flags: RuntimeFlags = { ...defaultRuntimeFlags, ...defaults };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z0-9-]+)(?:=(.*))?$/.exec(argv[i]);
    const spec = m && SPEC[m[1]];
    if (!m || !spec) {
      rest.push(argv[i]);
      continue;
    }
    const [field, kind] = spec;
    let raw = m[2];
    if (raw === undefined) {
      if (kind === "bool") raw = "true";
      else if (i + 1 < argv.length) raw = argv[++i];
      else throw new Error(`flag --${m[1]} needs a value`);
    }
    (flags as unknown as Record<string, unknown>)[field] = convert(m[1], kind, raw);
  }
  if (flags.intervalJitterPercentage < 0 || flags.intervalJitterPercentage >= 100) {
    throw new Error("--interval-jitter-percentage must be in [0, 100)");
  }
  return { flags, rest };
}

function convert(name: string, kind: Kind, raw: string): unknown {
  const bad = (): never => { throw new Error(`flag --${name}: invalid ${kind} "${raw}"`); };
  switch (kind) {
    case "int": return /^-?\d+$/.test(raw) ? Number(raw) : bad();
    case "float": return Number.isFinite(Number(raw)) && raw.trim() !== "" ? Number(raw) : bad();
    case "bool": return raw === "true" ? true : raw === "false" ? false : bad();
    case "duration": try { return parseDuration(raw); } catch { return bad(); }
    case "string": return raw;
  }
}
