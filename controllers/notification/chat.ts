// Chat services: each formats the event as its public webhook/API documents.
//   slack      attachment message (incoming webhook, or chat.postMessage with a bearer token)
//   discord    the Slack message, to the webhook's Slack-compatible `/slack` endpoint
//   rocket     the Slack message, to a Rocket.Chat incoming webhook
//   msteams    an Adaptive Card in a `message` (Workflows), or a MessageCard (Office 365 connector)
//   googlechat a cards v1 message: header, text paragraph, key/value widgets
//   webex      POST /v1/messages {roomId, markdown}, bearer token
//   telegram   POST /bot<token>/sendMessage {chat_id, text, parse_mode: MarkdownV2}
//   matrix     PUT /_matrix/client/v3/rooms/<room>/send/m.room.message/<txnId>, bearer token
//   lark       an interactive message card
//   zulip      POST /api/v1/messages (form: type=stream, to, topic, content), basic auth
import { createHash } from "node:crypto";
import type { FluxEvent } from "./event";
import { NotifierConfig } from "./provider-config";
import { AttemptObserver, basicAuth, joinUrl, postJson, send } from "./transport";

/** `Kind/name.namespace`: how Flux titles an event. */
export const eventTitle = (ev: FluxEvent) => `${ev.involvedObject.kind}/${ev.involvedObject.name}.${ev.involvedObject.namespace}`;

/** The metadata as sorted [key, value] pairs. */
export const metadataPairs = (ev: FluxEvent): [string, string][] =>
  Object.entries(ev.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b));

/** Title, message and one `key: value` line per metadata entry. */
export function plainText(ev: FluxEvent): string {
  const lines = [eventTitle(ev), ev.message, ...metadataPairs(ev).map(([k, v]) => `${k}: ${v}`)];
  return lines.join("\n");
}

export function slackMessage(cfg: NotifierConfig, ev: FluxEvent): Record<string, unknown> {
  const fields = metadataPairs(ev).map(([title, value]) => ({ title, value, short: false }));
  return {
    ...(cfg.channel ? { channel: cfg.channel } : {}),
    username: cfg.username ?? ev.reportingController,
    attachments: [{
      color: ev.severity === "error" ? "danger" : "good",
      author_name: eventTitle(ev),
      text: ev.message,
      mrkdwn_in: ["text"],
      ...(fields.length ? { fields } : {}),
    }],
  };
}

export async function sendSlack(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const res = await postJson(cfg, cfg.address, slackMessage(cfg, ev), { ...cfg.headers, ...(cfg.token ? { Authorization: `Bearer ${cfg.token}` } : {}) }, observe);
  // chat.postMessage answers 200 with {"ok": false, "error": ...} on failure.
  if (res.body.trim().startsWith("{")) {
    const j = JSON.parse(res.body) as { ok?: boolean; error?: string };
    if (j.ok === false) throw new Error(`Slack API error: ${j.error ?? "unknown"} (check the token and that the app is in channel '${cfg.channel ?? ""}')`);
  }
}

export async function sendDiscord(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const url = cfg.address.pathname.endsWith("/slack") ? cfg.address : joinUrl(cfg.address, "slack");
  const msg = slackMessage({ ...cfg, channel: undefined }, ev);
  await postJson(cfg, url, msg, cfg.headers, observe);
}

export async function sendRocket(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, cfg.address, slackMessage(cfg, ev), cfg.headers, observe);
}

export function teamsMessage(cfg: NotifierConfig, ev: FluxEvent): Record<string, unknown> {
  const facts = metadataPairs(ev);
  if (cfg.address.hostname.endsWith(".webhook.office.com")) {
    return {
      "@type": "MessageCard", "@context": "https://schema.org/extensions",
      themeColor: ev.severity === "error" ? "FF0000" : "0076D7",
      summary: eventTitle(ev),
      sections: [{ activityTitle: eventTitle(ev), activitySubtitle: ev.message, facts: facts.map(([name, value]) => ({ name, value })) }],
    };
  }
  const body: Record<string, unknown>[] = [
    { type: "TextBlock", text: eventTitle(ev), size: "Medium", weight: "Bolder", color: ev.severity === "error" ? "Attention" : "Good", wrap: true },
    { type: "TextBlock", text: ev.message, wrap: true },
  ];
  if (facts.length) body.push({ type: "FactSet", facts: facts.map(([title, value]) => ({ title, value })) });
  return {
    type: "message",
    attachments: [{
      contentType: "application/vnd.microsoft.card.adaptive",
      content: { $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4", body },
    }],
  };
}

export async function sendTeams(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, cfg.address, teamsMessage(cfg, ev), cfg.headers, observe);
}

export function googleChatMessage(ev: FluxEvent): Record<string, unknown> {
  const sections: Record<string, unknown>[] = [{ widgets: [{ textParagraph: { text: ev.message } }] }];
  const kv = metadataPairs(ev);
  if (kv.length) sections.push({ widgets: kv.map(([topLabel, content]) => ({ keyValue: { topLabel, content } })) });
  return { cards: [{ header: { title: eventTitle(ev), subtitle: ev.severity }, sections }] };
}

export async function sendGoogleChat(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, cfg.address, googleChatMessage(ev), cfg.headers, observe);
}

/** Markdown for Webex: bold title, the message, metadata as a list. */
export function markdownText(ev: FluxEvent): string {
  const icon = ev.severity === "error" ? "🚨" : "💫";
  return [`${icon} **${eventTitle(ev)}**`, "", ev.message, ...metadataPairs(ev).map(([k, v]) => `>**${k}**: ${v}`)].join("\n");
}

export async function sendWebex(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  await postJson(cfg, cfg.address, { roomId: cfg.channel, markdown: markdownText(ev) }, { ...cfg.headers, Authorization: `Bearer ${cfg.token}` }, observe);
}

/** Telegram MarkdownV2 needs these characters escaped everywhere in text. */
export const telegramEscape = (s: string) => s.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (c) => `\\${c}`);

export function telegramText(ev: FluxEvent): string {
  const icon = ev.severity === "error" ? "🚨" : "💫";
  return [`${icon} *${telegramEscape(eventTitle(ev))}*`, telegramEscape(ev.message), ...metadataPairs(ev).map(([k, v]) => `• *${telegramEscape(k)}*: ${telegramEscape(v)}`)].join("\n");
}

export async function sendTelegram(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const url = joinUrl(cfg.address, `bot${cfg.token}/sendMessage`);
  await postJson(cfg, url, { chat_id: cfg.channel, text: telegramText(ev), parse_mode: "MarkdownV2" }, cfg.headers, observe);
}

export async function sendMatrix(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  // The transaction ID makes a retried PUT idempotent: the same event is one message.
  const txn = createHash("sha256").update(JSON.stringify(ev)).digest("hex");
  const url = joinUrl(cfg.address, `_matrix/client/v3/rooms/${encodeURIComponent(cfg.channel!)}/send/m.room.message/${txn}`);
  await postJson(cfg, url, { msgtype: "m.text", body: plainText(ev) }, { ...cfg.headers, Authorization: `Bearer ${cfg.token}` }, observe, "PUT");
}

export function larkCard(ev: FluxEvent): Record<string, unknown> {
  const content = [ev.message, ...metadataPairs(ev).map(([k, v]) => `**${k}**: ${v}`)].join("\n");
  return {
    msg_type: "interactive",
    card: {
      config: { wide_screen_mode: true },
      header: { title: { tag: "plain_text", content: `${ev.severity === "error" ? "🚨" : "💫"} ${eventTitle(ev)}` }, template: ev.severity === "error" ? "red" : "turquoise" },
      elements: [{ tag: "div", text: { tag: "lark_md", content } }],
    },
  };
}

export async function sendLark(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const res = await postJson(cfg, cfg.address, larkCard(ev), cfg.headers, observe);
  // Lark answers 200 with a non-zero `code` on failure.
  try {
    const j = JSON.parse(res.body) as { code?: number; msg?: string };
    if (j.code) throw new Error(`Lark API error ${j.code}: ${j.msg ?? ""}`);
  } catch (e) { if (!(e instanceof SyntaxError)) throw e; }
}

export async function sendZulip(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  const [stream, ...topic] = cfg.channel!.split("/");
  const form = new URLSearchParams({ type: "stream", to: stream, topic: topic.join("/"), content: markdownText(ev) });
  await send(cfg, {
    url: joinUrl(cfg.address, "api/v1/messages"), body: form.toString(),
    headers: { ...cfg.headers, "Content-Type": "application/x-www-form-urlencoded", Authorization: basicAuth(cfg.username!, cfg.password!) },
  }, observe);
}
