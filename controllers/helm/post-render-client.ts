// The helm post-renderer process when the release has no spec.postRenderers: `node
// post-render-client.js <socket> <token>`. It hands helm's rendering (stdin) to the controller
// over its unix socket (post-render-server.ts), which labels it in process, and prints the
// answer; a failure goes to stderr with exit status 1, as helm expects. Only `node:net` is
// loaded: this process starts for every install and upgrade, so its start-up is kept to Node's.
import { connect } from "node:net";

const [socketPath, token] = process.argv.slice(2);
const answer: Buffer[] = [];
const c = connect(socketPath);
c.write(`${token}\n`);
process.stdin.pipe(c);
c.on("data", (d: Buffer) => answer.push(d));
c.on("end", () => {
  const b = Buffer.concat(answer);
  if (b[0] === 0x4f /* O */) {
    process.stdout.write(b.subarray(1));
    return;
  }
  process.stderr.write(b.length > 1 ? `${b.subarray(1).toString()}\n` : "the helm-controller closed the post-render connection without an answer\n");
  process.exitCode = 1;
});
c.on("error", (e) => {
  process.stderr.write(`cannot reach the helm-controller's post-renderer at ${socketPath}: ${e.message}\n`);
  process.exitCode = 1;
});
