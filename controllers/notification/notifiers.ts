// Sending an event to a Provider: one function per type, grouped by family (chat.ts,
// alerting.ts, commit-status.ts, nats.ts); each module's header lists the wire format it sends.
import { ProviderType } from "../api/notification/v1beta3/provider";
import type { Alert } from "../api/notification/v1beta3/alert";
import type { FluxEvent } from "./event";
import * as chat from "./chat";
import * as alerting from "./alerting";
import { sendCommitStatus } from "./commit-status";
import { sendNats } from "./nats";
import { ChangeRequestCommentProviderTypes, sendChangeRequestComment } from "./change-request-comment";
import { CommitStatusProviderTypes, NotifierConfig } from "./provider-config";
import { AttemptObserver, NotifierError } from "./transport";

export { ComponentHeader, SignatureHeader, hmacSignature } from "./alerting";
export { NotifierError } from "./transport";

const T = ProviderType;

export interface SendOptions {
  alert?: Alert;
  observe?: AttemptObserver;
}

/** Sends `ev` to the Provider; resolves once the service accepted it, NotifierError otherwise. */
export async function sendEvent(cfg: NotifierConfig, ev: FluxEvent, opts: SendOptions = {}): Promise<void> {
  const o = opts.observe;
  if (CommitStatusProviderTypes.includes(cfg.type)) { await sendCommitStatus(cfg, ev, o, opts.alert); return; }
  if (ChangeRequestCommentProviderTypes.includes(cfg.type)) return sendChangeRequestComment(cfg, ev, o);
  switch (cfg.type) {
    case T.Generic: return alerting.sendGeneric(cfg, ev, false, o);
    case T.GenericHMAC: return alerting.sendGeneric(cfg, ev, true, o);
    case T.Slack: return chat.sendSlack(cfg, ev, o);
    case T.Discord: return chat.sendDiscord(cfg, ev, o);
    case T.Rocket: return chat.sendRocket(cfg, ev, o);
    case T.MSTeams: return chat.sendTeams(cfg, ev, o);
    case T.GoogleChat: return chat.sendGoogleChat(cfg, ev, o);
    case T.Webex: return chat.sendWebex(cfg, ev, o);
    case T.Telegram: return chat.sendTelegram(cfg, ev, o);
    case T.Matrix: return chat.sendMatrix(cfg, ev, o);
    case T.Lark: return chat.sendLark(cfg, ev, o);
    case T.Zulip: return chat.sendZulip(cfg, ev, o);
    case T.Opsgenie: return alerting.sendOpsgenie(cfg, ev, o);
    case T.PagerDuty: return alerting.sendPagerDuty(cfg, ev, o);
    case T.DataDog: return alerting.sendDatadog(cfg, ev, o);
    case T.Sentry: return alerting.sendSentry(cfg, ev, o);
    case T.AlertManager: return alerting.sendAlertmanager(cfg, ev, o);
    case T.Grafana: return alerting.sendGrafana(cfg, ev, o);
    case T.GitHubDispatch: return alerting.sendGitHubDispatch(cfg, ev, o);
    case T.AzureEventHub: return alerting.sendAzureEventHub(cfg, ev, o);
    case T.GooglePubSub: return alerting.sendGooglePubSub(cfg, ev, o);
    case T.OTEL: return alerting.sendOtel(cfg, ev, opts.alert, o);
    case T.NATS: return sendNats(cfg, ev, o);
    default:
      throw new NotifierError(`provider type '${cfg.type}' is not supported`);
  }
}
