/**
 * A local git server for the quickstart and the examples: `git http-backend` (smart HTTP, push
 * enabled) behind a Node HTTP server on 127.0.0.1 with basic auth, serving every bare repository
 * under a directory. Not for production: plain HTTP (the Bootstrap needs
 * http.allowInsecureHttp), one user.
 *
 *   node dist/provider/dev/git-server.js --root DIR [--port P] --username U --password P
 *       [--seed repo.git=path/to/dir]   create repo.git from a directory's files (first commit)
 * Prints `{"url": ..., "pid": ...}` on stdout once listening.
 */
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";

const BACKEND = "/usr/lib/git-core/git-http-backend";

export interface GitServerOptions {
  root: string;
  port?: number;
  username: string;
  password: string;
}

/** Creates `<root>/<name>` from the files of `from` (one commit on main), unless it exists. */
export function seedRepository(root: string, name: string, from: string): void {
  const bare = path.join(root, name);
  if (fs.existsSync(bare)) return;
  const env = { ...process.env, GIT_AUTHOR_NAME: "quickstart", GIT_AUTHOR_EMAIL: "quickstart@localhost", GIT_COMMITTER_NAME: "quickstart", GIT_COMMITTER_EMAIL: "quickstart@localhost", GIT_CONFIG_NOSYSTEM: "1", HOME: os.tmpdir() };
  execFileSync("git", ["init", "-q", "--bare", "-b", "main", bare], { env });
  execFileSync("git", ["config", "http.receivepack", "true"], { cwd: bare, env });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-seed-"));
  try {
    fs.cpSync(from, work, { recursive: true });
    execFileSync("git", ["init", "-q", "-b", "main", "."], { cwd: work, env });
    execFileSync("git", ["add", "-A", "."], { cwd: work, env });
    execFileSync("git", ["commit", "-q", "-m", "Initial content"], { cwd: work, env });
    execFileSync("git", ["push", "-q", bare, "main"], { cwd: work, env });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function authorised(req: http.IncomingMessage, o: GitServerOptions): boolean {
  const h = req.headers.authorization ?? "";
  if (!h.startsWith("Basic ")) return false;
  const [u, ...p] = Buffer.from(h.slice(6), "base64").toString().split(":");
  return u === o.username && p.join(":") === o.password;
}

export function serveGit(o: GitServerOptions): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (!authorised(req, o)) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="git"' });
      res.end("authentication required\n");
      return;
    }
    const url = new URL(req.url ?? "/", "http://localhost");
    const cgi = spawn(BACKEND, [], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: o.root,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        REMOTE_USER: o.username,
        REMOTE_ADDR: req.socket.remoteAddress ?? "",
        GIT_PROTOCOL: String(req.headers["git-protocol"] ?? ""),
        HTTP_CONTENT_ENCODING: String(req.headers["content-encoding"] ?? ""),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on("data", (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString().split("\r\n")) {
        const i = line.indexOf(":");
        if (i < 0) continue;
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === "status") status = Number(v.split(" ")[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.stdout.on("end", () => res.end());
    cgi.on("error", () => {
      res.writeHead(500);
      res.end();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve(server));
  });
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (require.main === module) {
  const root = path.resolve(arg("root") ?? ".gitops/git");
  fs.mkdirSync(root, { recursive: true });
  for (let i = 0; i < process.argv.length; i++) {
    if (process.argv[i] !== "--seed") continue;
    const [name, from] = (process.argv[i + 1] ?? "").split("=");
    if (name && from) seedRepository(root, name, path.resolve(from));
  }
  const opts = { root, port: Number(arg("port") ?? 0), username: arg("username") ?? "gitops", password: arg("password") ?? "gitops" };
  serveGit(opts).then((server) => {
    const port = (server.address() as { port: number }).port;
    console.log(JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }));
  }, (e: Error) => {
    console.error(`git server: ${e.message}`);
    process.exit(1);
  });
}
