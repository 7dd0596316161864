// The in-process post-renderer: a unix socket in this process's temp space (a 0700 directory)
// that post-render-client.js, started by helm, sends the rendered manifests to. Each helm action
// registers what to set (labels, annotations) under a random token, removed after the action; the
// answer is `O` + the labelled manifests or `E` + the error message. This replaces a Node process
// loading the yaml library plus a `kustomize build` per install or upgrade.
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { labelManifests } from "./metadata-labeller";

export interface LabelJob {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** The part of the spec a failure is reported under. */
  what: string;
}

const jobs = new Map<string, LabelJob>();
let listening: Promise<string> | undefined;

function answer(request: Buffer): Buffer {
  const nl = request.indexOf(0x0a);
  const job = nl > 0 ? jobs.get(request.subarray(0, nl).toString()) : undefined;
  if (!job) return Buffer.from("Eunknown post-render request (was the helm action cancelled?)");
  try {
    return Buffer.concat([Buffer.from("O"), Buffer.from(labelManifests(request.subarray(nl + 1).toString("utf8"), job.labels, job.annotations))]);
  } catch (e) {
    return Buffer.from(`E${job.what}: ${(e as Error).message}`);
  }
}

function listen(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "helm-post-render-"));
  const socketPath = path.join(dir, "socket");
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  const server = net.createServer({ allowHalfOpen: true }, (c) => {
    const chunks: Buffer[] = [];
    c.on("data", (d: Buffer) => chunks.push(d));
    c.on("end", () => c.end(answer(Buffer.concat(chunks))));
    c.on("error", () => c.destroy());
  });
  server.unref();
  return new Promise((resolve, reject) => {
    server.once("error", (e) => {
      fs.rmSync(dir, { recursive: true, force: true });
      reject(e);
    });
    server.listen(socketPath, () => resolve(socketPath));
  });
}

/**
 * The `--post-renderer` for helm that sets `job` in this process; `done` forgets the job.
 * Undefined when the socket cannot be set up (the caller falls back to a post-renderer process).
 */
export async function inProcessPostRenderer(job: LabelJob): Promise<{ path: string; args: string[]; done: () => void } | undefined> {
  let socketPath: string;
  try {
    socketPath = await (listening ??= listen());
  } catch {
    listening = undefined;
    return undefined;
  }
  const token = randomBytes(16).toString("hex");
  jobs.set(token, job);
  return { path: process.execPath, args: [path.join(__dirname, "post-render-client.js"), socketPath, token], done: () => jobs.delete(token) };
}
