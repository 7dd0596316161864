// Which Alerts an event goes to, in Flux's order: skip suspended Alerts; an event source must
// match (namespace, defaulting to the Alert's; kind; severity; name or `*` with matchLabels);
// then the inclusion list (if any) must match the message and the exclusion list must not.
// Lists hold Go regular expressions; the RE2 spellings JavaScript lacks are translated.
import { EventSeverity, type Alert } from "../api/notification/v1beta3/alert";
import type { CrossNamespaceObjectReference } from "../api/notification/v1/cross-namespace-reference";
import { NotificationReason } from "../api/notification/group-version";
import { FluxEvent, ObjectReference, objectString } from "./event";

export interface MatchDeps {
  /** The involved object's labels; undefined when it cannot be read. */
  labelsOf(obj: ObjectReference): Promise<Record<string, string> | undefined>;
  /** A Warning about the Alert's configuration (Flux records these as Events on the Alert). */
  report(alert: Alert, reason: string, message: string): void;
}

/** The Alerts that should send `ev`, each once. */
export async function matchingAlerts(ev: FluxEvent, alerts: readonly Alert[], deps: MatchDeps): Promise<Alert[]> {
  const out: Alert[] = [];
  for (const alert of alerts) {
    if (alert.spec.suspend) continue;
    if (!(await matchesSources(ev, alert, deps))) continue;
    if (!messageIncluded(ev.message, alert, deps)) continue;
    if (messageExcluded(ev.message, alert, deps)) continue;
    out.push(alert);
  }
  return out;
}

async function matchesSources(ev: FluxEvent, alert: Alert, deps: MatchDeps): Promise<boolean> {
  for (const source of alert.spec.eventSources ?? []) {
    if (await matchesSource(ev, alert, { ...source, namespace: source.namespace || alert.metadata.namespace }, deps)) return true;
  }
  return false;
}

async function matchesSource(ev: FluxEvent, alert: Alert, source: CrossNamespaceObjectReference, deps: MatchDeps): Promise<boolean> {
  const io = ev.involvedObject;
  if (io.namespace !== source.namespace || io.kind !== source.kind) return false;
  const severity = alert.spec.eventSeverity ?? EventSeverity.Info;
  if (ev.severity !== severity && severity !== EventSeverity.Info) return false;
  if (source.name !== "*" && source.name !== io.name) return false;
  if (!source.matchLabels) return true;
  const labels = await deps.labelsOf(io);
  if (!labels) {
    deps.report(alert, "SourceFetchFailed", `error getting source object ${objectString(io)}`);
    return false;
  }
  return Object.entries(source.matchLabels).every(([k, v]) => labels[k] === v);
}

function messageIncluded(msg: string, alert: Alert, deps: MatchDeps): boolean {
  const list = alert.spec.inclusionList ?? [];
  if (list.length === 0) return true;
  return list.some((expr) => matches(expr, msg, alert, "inclusion", deps));
}

function messageExcluded(msg: string, alert: Alert, deps: MatchDeps): boolean {
  return (alert.spec.exclusionList ?? []).some((expr) => matches(expr, msg, alert, "exclusion", deps));
}

function matches(expr: string, msg: string, alert: Alert, list: string, deps: MatchDeps): boolean {
  try {
    return goRegExp(expr).test(msg);
  } catch (e) {
    deps.report(alert, NotificationReason.InvalidConfig, `failed to compile ${list} regex: ${expr}: ${(e as Error).message}`);
    return false;
  }
}

const cache = new Map<string, RegExp>();
const posixClasses: Record<string, string> = {
  alnum: "0-9A-Za-z", alpha: "A-Za-z", digit: "0-9", lower: "a-z", upper: "A-Z", space: "\\s", word: "\\w",
  xdigit: "0-9A-Fa-f", punct: "!-\\/:-@\\[-`{-~", blank: " \\t",
};

/**
 * A Go (RE2) regular expression as a JavaScript RegExp: leading flags `(?i)`/`(?s)`/`(?m)`
 * become RegExp flags, `\A` and `\z` become anchors, `[[:alpha:]]`-style classes are expanded.
 * Throws on what JavaScript cannot compile.
 */
export function goRegExp(expr: string): RegExp {
  const hit = cache.get(expr);
  if (hit) return hit;
  let src = expr;
  let flags = "";
  const lead = /^\(\?([ims]+)\)/.exec(src);
  if (lead) {
    flags += [...new Set(lead[1])].join("");
    src = src.slice(lead[0].length);
  }
  src = src.replace(/\\A/g, "^").replace(/\\z/g, "$(?![\\s\\S])")
    .replace(/\[:(\^?)(\w+):\]/g, (m, neg: string, name: string) => {
      const cls = posixClasses[name];
      if (!cls) return m;
      return neg ? `^${cls}` : cls;
    });
  const re = new RegExp(src, flags);
  if (cache.size > 1000) cache.clear();
  cache.set(expr, re);
  return re;
}
