// Go-style durations ("1m30s", "500ms", "10h") as Flux's APIs and flags write them.

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
/** Go's time.Duration is int64 nanoseconds; ParseDuration refuses anything longer (~292 years). */
const GO_MAX_DURATION_MS = 9_223_372_036_854.775;

/** Milliseconds in a Go duration string; throws on anything else. */
export function parseDuration(s: string): number {
  const str = s.trim();
  if (str === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let sign = 1;
  let rest = str;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest[0] === "-" ? -1 : 1;
    rest = rest.slice(1);
  }
  re.lastIndex = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    total += Number(m[1]) * UNITS[m[2]];
    matched = re.lastIndex;
  }
  if (!rest || matched !== rest.length) throw new Error(`invalid duration "${s}" (expected e.g. "30s", "5m", "1h30m")`);
  if (!(total <= GO_MAX_DURATION_MS)) throw new Error(`invalid duration "${s}": longer than Go's maximum duration (about 292 years)`);
  return sign * total;
}

/** A duration in Go's shortest form for whole units ("1h30m0s" style is not needed here). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = Math.abs(ms);
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return (ms < 0 ? "-" : "") + parts.join("");
}

/** A duration as Go's time.Duration.String() prints it ("5m0s", "1h0m0s", "30s", "500ms"), as Flux's messages show it. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${abs}ms`;
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = (abs % 60_000) / 1000;
  return sign + (h ? `${h}h${m}m` : m ? `${m}m` : "") + `${s}s`;
}
