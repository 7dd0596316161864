// Chat Providers: the exact request each type sends for one error event, against a recording
// server that answers as the service's API does.
import { expect } from "chai";
import { eventually, newNamespace } from "../../support/cluster";
import { Recorded, Recorder, chatRules } from "./recorders";
import { NotificationStack, fixedEvent, providerCase, waitForEvent, withStackAndRecorder } from "./support";

describe("Provider: chat services get the message format their APIs document", function () {
  let stack: NotificationStack;
  let rec: Recorder;
  withStackAndRecorder(chatRules, (s, r) => { stack = s; rec = r; });

  const rev = "main@sha1:0123456789abcdef0123456789abcdef01234567";
  /** One request at `prefix` for namespace `ns` (the title carries it). */
  const one = (prefix: string, ns: string) => eventually(() => rec.under(prefix).find((r) => r.body.includes(ns)), { timeoutMs: 20000, what: `a request at ${prefix}` });
  const title = (ns: string) => `GitRepository/app.${ns}`;

  it("slack: chat.postMessage with a bearer token, channel, username and metadata fields", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "slack", address: rec.url("/api/chat.postMessage"), channel: "general", username: "flux" }, { token: "xoxb-1" }, fixedEvent(ns));
    const r = await one("/api/chat.postMessage", ns);
    expect(r.method).to.equal("POST");
    expect(r.headers.authorization).to.equal("Bearer xoxb-1");
    expect(r.headers["content-type"]).to.equal("application/json");
    expect(r.json).to.deep.equal({ channel: "general", username: "flux", attachments: [{
      color: "danger", author_name: title(ns), text: "failed to checkout 'main'", mrkdwn_in: ["text"],
      fields: [{ title: "env", value: "prod", short: false }, { title: "revision", value: rev, short: false }] }] });
  });

  it("slack: a chat.postMessage answer {ok:false} is a failure with Slack's error", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "slack", address: rec.url("/api/chat.postMessage"), channel: "general" }, { headers: "Authorization: none\n", token: "" }, fixedEvent(ns));
    await waitForEvent(stack.client, ns, "Alert", "a", /Slack API error: not_authed/, "NotificationDispatchFailed");
  });

  it("discord: the Slack message (no channel) to the webhook's /slack endpoint, username defaulting to the controller", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "discord", channel: "ignored" }, { address: rec.url(`/api/webhooks/1/tok-${ns}`) }, fixedEvent(ns, { severity: "info", reason: "NewArtifact", message: "stored artifact" }));
    const r = await one(`/api/webhooks/1/tok-${ns}/slack`, ns);
    expect(r.json).to.deep.equal({ username: "source-controller", attachments: [{
      color: "good", author_name: title(ns), text: "stored artifact", mrkdwn_in: ["text"],
      fields: [{ title: "env", value: "prod", short: false }, { title: "revision", value: rev, short: false }] }] });
  });

  it("rocket: the Slack message to the incoming webhook", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "rocket", channel: "#ops" }, { address: rec.url(`/hooks/rocket-${ns}`) }, fixedEvent(ns));
    const r = await one(`/hooks/rocket-${ns}`, ns);
    expect(r.json.channel).to.equal("#ops");
    expect(r.json.attachments[0]).to.include({ color: "danger", author_name: title(ns) });
  });

  it("msteams: an Adaptive Card message for a Workflows webhook", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "msteams" }, { address: rec.url(`/workflows/teams-${ns}/triggers/manual/paths/invoke?sig=x`) }, fixedEvent(ns));
    const r = await one(`/workflows/teams-${ns}/`, ns);
    expect(r.path).to.match(/\?sig=x$/);
    expect(r.json).to.deep.equal({ type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive", content: {
      $schema: "http://adaptivecards.io/schemas/adaptive-card.json", type: "AdaptiveCard", version: "1.4", body: [
        { type: "TextBlock", text: title(ns), size: "Medium", weight: "Bolder", color: "Attention", wrap: true },
        { type: "TextBlock", text: "failed to checkout 'main'", wrap: true },
        { type: "FactSet", facts: [{ title: "env", value: "prod" }, { title: "revision", value: rev }] }] } }] });
  });

  it("googlechat: a cards v1 message with key/value widgets", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "googlechat" }, { address: rec.url(`/v1/spaces/gchat-${ns}/messages?key=k`) }, fixedEvent(ns));
    const r = await one(`/v1/spaces/gchat-${ns}/messages`, ns);
    expect(r.json).to.deep.equal({ cards: [{ header: { title: title(ns), subtitle: "error" }, sections: [
      { widgets: [{ textParagraph: { text: "failed to checkout 'main'" } }] },
      { widgets: [{ keyValue: { topLabel: "env", content: "prod" } }, { keyValue: { topLabel: "revision", content: rev } }] }] }] });
  });

  it("webex: POST /v1/messages with roomId and markdown, bearer token", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "webex", address: rec.url("/v1/messages"), channel: `room-${ns}` }, { token: "wbx" }, fixedEvent(ns));
    const r = await one("/v1/messages", ns);
    expect(r.headers.authorization).to.equal("Bearer wbx");
    expect(r.json).to.deep.equal({ roomId: `room-${ns}`, markdown: `🚨 **${title(ns)}**\n\nfailed to checkout 'main'\n>**env**: prod\n>**revision**: ${rev}` });
  });

  it("telegram: POST /bot<token>/sendMessage with chat_id and MarkdownV2 text", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "telegram", address: rec.url("/"), channel: "@flux" }, { token: `123:${ns}` }, fixedEvent(ns));
    const r = await eventually(() => rec.under(`/bot123:${ns}/sendMessage`)[0], { what: "the Telegram request" });
    const esc = (s: string) => s.replace(/[_*[\]()~`>#+\-=|{}.!\\]/g, (c) => `\\${c}`);
    expect(r.json).to.deep.equal({ chat_id: "@flux", parse_mode: "MarkdownV2",
      text: `🚨 *${esc(title(ns))}*\n${esc("failed to checkout 'main'")}\n• *env*: prod\n• *revision*: ${esc(rev)}` });
  });

  it("matrix: PUT an m.room.message text event into the room, bearer token", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "matrix", address: rec.url("/"), channel: "!room:example.org" }, { token: "syt" }, fixedEvent(ns));
    const r: Recorded = await one("/_matrix/client/v3/rooms/", ns);
    expect(r.method).to.equal("PUT");
    expect(r.path).to.match(/^\/_matrix\/client\/v3\/rooms\/!room%3Aexample\.org\/send\/m\.room\.message\/[0-9a-f]{64}$/);
    expect(r.headers.authorization).to.equal("Bearer syt");
    expect(r.json).to.deep.equal({ msgtype: "m.text", body: `${title(ns)}\nfailed to checkout 'main'\nenv: prod\nrevision: ${rev}` });
  });

  it("lark: an interactive message card", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "lark" }, { address: rec.url(`/open-apis/bot/v2/hook/${ns}`) }, fixedEvent(ns));
    const r = await one(`/open-apis/bot/v2/hook/${ns}`, ns);
    expect(r.json).to.deep.equal({ msg_type: "interactive", card: { config: { wide_screen_mode: true },
      header: { title: { tag: "plain_text", content: `🚨 ${title(ns)}` }, template: "red" },
      elements: [{ tag: "div", text: { tag: "lark_md", content: `failed to checkout 'main'\n**env**: prod\n**revision**: ${rev}` } }] } });
  });

  it("zulip: POST /api/v1/messages as a form, to channel and topic, with the bot's basic auth", async function () {
    const ns = await newNamespace();
    await providerCase(stack, ns, { type: "zulip", address: rec.url("/"), channel: `ops/${ns}` }, { username: "bot@zulip.example", password: "key1" }, fixedEvent(ns));
    const r = await eventually(() => rec.under("/api/v1/messages").find((x) => x.body.includes(ns)), { what: "the Zulip request" });
    expect(r.headers["content-type"]).to.equal("application/x-www-form-urlencoded");
    expect(r.headers.authorization).to.equal(`Basic ${Buffer.from("bot@zulip.example:key1").toString("base64")}`);
    const form = Object.fromEntries(new URLSearchParams(r.body));
    expect(form).to.deep.equal({ type: "stream", to: "ops", topic: ns, content: `🚨 **${title(ns)}**\n\nfailed to checkout 'main'\n>**env**: prod\n>**revision**: ${rev}` });
  });
});
