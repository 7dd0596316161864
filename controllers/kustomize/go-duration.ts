// Durations printed as Go's time.Duration.String() prints them ("176.163666ms", "1.5s",
// "10m0s", "1h0m0s"), because Flux's messages and status.history carry that form.

export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return "0s";
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < 1e3) {
    out = `${u}ns`;
  } else if (u < 1e6) {
    out = `${trim(u / 1e3)}µs`;
  } else if (u < 1e9) {
    out = `${trim(u / 1e6)}ms`;
  } else {
    const h = Math.floor(u / 3.6e12);
    u -= h * 3.6e12;
    const m = Math.floor(u / 6e10);
    u -= m * 6e10;
    const s = `${trim(u / 1e9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}

/** Up to nine decimals, trailing zeros removed. */
function trim(x: number): string {
  return x.toFixed(9).replace(/\.?0+$/, "");
}
