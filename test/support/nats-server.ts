// The real nats-server (built by scripts/setup-tools.sh from Go modules) on a loopback port,
// with a username/password user, and a subscriber that speaks the NATS client protocol to
// see what was published.
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { onTeardown } from "./teardown";

export interface NatsServer { url: string; port: number; close(): Promise<void> }

export function natsServerBinary(): string {
  return path.join(process.env.GITOPS_TOOLS ?? path.join(os.homedir(), ".cache", "gitops-tools"), "bin", "nats-server");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
    s.on("error", reject);
  });
}

/** A nats-server with user/password `user` and, when given, an NKey user (public key `nkeyUser`, U...). */
export async function startNatsServer(user: string, password: string, nkeyUser?: string): Promise<NatsServer> {
  const bin = natsServerBinary();
  if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run 'bash scripts/setup-tools.sh nats_server'`);
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nats-"));
  const conf = path.join(dir, "nats.conf");
  const perms = `permissions: { publish: { allow: ["flux.>", "_INBOX.>"] }, subscribe: ">" }`;
  const nkey = nkeyUser ? `, { nkey: ${nkeyUser}, ${perms} }` : "";
  fs.writeFileSync(conf, `listen: 127.0.0.1:${port}\nauthorization { users = [ { user: ${JSON.stringify(user)}, password: ${JSON.stringify(password)}, ${perms} }${nkey} ] }\n`);
  const proc: ChildProcess = spawn(bin, ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (c: Buffer) => { log += c.toString(); });
  const deadline = Date.now() + 15000;
  while (!/Server is ready/.test(log)) {
    if (proc.exitCode !== null || Date.now() > deadline) { proc.kill(); throw new Error(`nats-server did not start: ${log}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const close = async () => {
    if (proc.exitCode === null) { proc.kill("SIGTERM"); await new Promise((r) => proc.once("exit", r)); }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  onTeardown(close);
  return { url: `nats://127.0.0.1:${port}`, port, close };
}

export interface NatsMessage { subject: string; data: string }
export interface NatsSubscriber { messages: NatsMessage[]; close(): void }

/** Subscribes to `subject` (wildcards allowed) and collects MSG payloads. */
export function subscribe(port: number, user: string, password: string, subject: string): Promise<NatsSubscriber> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    const messages: NatsMessage[] = [];
    let buf = Buffer.alloc(0);
    let ready = false;
    sock.on("data", (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const i = buf.indexOf("\r\n");
        if (i < 0) return;
        const line = buf.subarray(0, i).toString();
        if (line.startsWith("MSG ")) {
          const parts = line.split(" ");
          const n = Number(parts[parts.length - 1]);
          if (buf.length < i + 2 + n + 2) return;
          messages.push({ subject: parts[1], data: buf.subarray(i + 2, i + 2 + n).toString() });
          buf = buf.subarray(i + 2 + n + 2);
          continue;
        }
        buf = buf.subarray(i + 2);
        if (line.startsWith("INFO ")) sock.write(`CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user, pass: password, protocol: 1 })}\r\nSUB ${subject} 1\r\nPING\r\n`);
        else if (line === "PING") sock.write("PONG\r\n");
        else if (line === "PONG" && !ready) { ready = true; resolve({ messages, close: () => sock.destroy() }); }
        else if (line.startsWith("-ERR")) reject(new Error(line));
      }
    });
    sock.on("error", reject);
  });
}
