// NATS: publishes the event JSON on spec.channel (the subject) with the NATS client protocol
// (docs.nats.io "Client Protocol"): read the server's INFO, send CONNECT (with user/pass from the
// Secret or the URL) + PING and wait for PONG (or -ERR, e.g. "Authorization Violation"), then
// PUB <subject> <bytes> + PING and wait for the PONG the server sends after the PUB. nats:// is plain
// TCP (upgraded to TLS when the server's INFO requires it or certSecretRef is set); tls:// is TLS.
// NKey authentication: the Secret's `nkey` (a user seed, SU...) signs the server's nonce; CONNECT
// carries {nkey: <public key>, sig}. JWT (.creds, operator mode) authentication is not supported.
import * as net from "node:net";
import * as tls from "node:tls";
import { sleep, systemClock, timerMs } from "../runtime/clock";
import type { FluxEvent } from "./event";
import { NotifierConfig, ProviderConfigError, redact } from "./provider-config";
import { AttemptObserver, NotifierError } from "./transport";
import { userFromSeed } from "./nkeys";

export async function sendNats(cfg: NotifierConfig, ev: FluxEvent, observe?: AttemptObserver): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await publish(cfg, cfg.channel!, Buffer.from(JSON.stringify(ev)));
      observe?.("success");
      return;
    } catch (e) {
      const final = e instanceof ProviderConfigError || /Authorization Violation|Permissions Violation|Invalid Subject/i.test((e as Error).message);
      if (final || attempt >= cfg.retry.retries) {
        observe?.("failure");
        const err = e instanceof NotifierError ? e : new NotifierError((e as Error).message);
        if (attempt > 0) err.message += ` (gave up after ${attempt + 1} attempts)`;
        throw err;
      }
      observe?.("retry");
      await sleep(systemClock, Math.min(30_000, cfg.retry.baseMs * 2 ** attempt));
    }
  }
}

/** One connection: CONNECT, PUB, PING, wait for PONG. */
export function publish(cfg: NotifierConfig, subject: string, payload: Buffer): Promise<void> {
  if (/[\s]/.test(subject) || !subject) throw new ProviderConfigError(`invalid NATS subject '${subject}' in spec.channel: no spaces allowed`);
  const url = new URL(cfg.rawAddress);
  const port = Number(url.port || 4222);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const user = cfg.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const pass = cfg.password ?? (url.password ? decodeURIComponent(url.password) : undefined);
  const where = `nats server ${redact(`http://${url.host}`).replace(/^http:/, url.protocol)}`;
  const wantTls = url.protocol === "tls:" || !!cfg.tls;
  const tlsOpts = { host, servername: net.isIP(host) ? undefined : host, ca: cfg.tls?.ca, cert: cfg.tls?.cert, key: cfg.tls?.key };
  return new Promise((resolve, reject) => {
    let sock: net.Socket = net.connect({ host, port });
    let buf = "";
    // CONNECT is answered (PONG or -ERR) before the PUB is written: a server that refuses the
    // credentials closes the connection, and a PUB written after that would only get EPIPE.
    let state: "info" | "connected" | "published" = "info";
    let finished = false;
    const done = (e?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      if (e) reject(e); else resolve();
    };
    const timer = setTimeout(() => done(new NotifierError(`${where}: timed out after ${cfg.timeoutMs} ms (spec.timeout)`)), timerMs(cfg.timeoutMs));
    const onData = (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (line.startsWith("-ERR")) return done(new NotifierError(`${where} refused the publish: ${line.slice(5).trim().replace(/^'|'$/g, "")}`));
        if (line === "PING") { sock.write("PONG\r\n"); continue; }
        if (state === "info" && line.startsWith("INFO ")) {
          let info: { tls_required?: boolean; auth_required?: boolean; headers?: boolean; nonce?: string };
          try { info = JSON.parse(line.slice(5)); } catch { return done(new NotifierError(`${where}: malformed INFO`)); }
          state = "connected";
          const go = () => {
            let nkeyAuth = {};
            if (cfg.nkeySeed) {
              if (!info.nonce) return done(new NotifierError(`${where} sent no nonce to sign: it does not take NKey authentication (remove the 'nkey' key or configure an nkey user)`));
              const u = userFromSeed(cfg.nkeySeed);
              nkeyAuth = { nkey: u.publicKey, sig: u.sign(Buffer.from(info.nonce)) };
            }
            const connect = { verbose: false, pedantic: false, tls_required: wantTls || !!info.tls_required, name: "notification-controller",
              lang: "typescript", version: "1.0.0", protocol: 1, ...(user !== undefined ? { user, pass: pass ?? "" } : {}), ...nkeyAuth };
            sock.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
          };
          if (wantTls || info.tls_required) {
            // Upgrade the same connection after INFO, as the protocol does.
            sock.removeListener("data", onData);
            const plain = sock;
            sock = tls.connect({ socket: plain, ...tlsOpts }, go);
            sock.on("data", onData);
            sock.on("error", (e) => done(new NotifierError(`${where}: TLS: ${e.message}`)));
          } else go();
          continue;
        }
        if (state === "connected" && line === "PONG") {
          state = "published";
          sock.write(`PUB ${subject} ${payload.length}\r\n`);
          sock.write(payload);
          sock.write("\r\nPING\r\n");
          continue;
        }
        if (state === "published" && line === "PONG") return done();
      }
    };
    sock.on("data", onData);
    // A write error (EPIPE) can come before the server's -ERR is read: report it at close, after the data.
    let sockErr: Error | undefined;
    sock.on("error", (e) => { sockErr = e; });
    sock.on("close", () => done(new NotifierError(sockErr ? `${where}: ${sockErr.message}` : `${where}: connection closed before the publish was acknowledged`)));
  });
}
