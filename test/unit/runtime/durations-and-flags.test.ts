import { expect } from "chai";
import { backoffDelay, defaultRuntimeFlags, formatDuration, jittered, parseDuration, parseRuntimeFlags } from "../../../controllers/runtime";

describe("runtime durations, jitter and flags", function () {
  it("parses Go durations as Flux writes them", function () {
    expect(parseDuration("1m30s")).to.equal(90_000);
    expect(parseDuration("10m")).to.equal(600_000);
    expect(parseDuration("1h")).to.equal(3_600_000);
    expect(parseDuration("500ms")).to.equal(500);
    expect(parseDuration("1.5s")).to.equal(1500);
    expect(parseDuration("0")).to.equal(0);
    expect(() => parseDuration("10")).to.throw(/invalid duration/);
    expect(() => parseDuration("5 minutes")).to.throw(/invalid duration/);
    expect(formatDuration(5_400_000)).to.equal("1h30m");
  });

  it("jitters intervals within ±fraction", function () {
    expect(jittered(600_000, 0.05, () => 0)).to.equal(570_000);
    expect(jittered(600_000, 0.05, () => 1)).to.equal(630_000);
    expect(jittered(600_000, 0.05, () => 0.5)).to.equal(600_000);
  });

  it("backs off exponentially with a cap", function () {
    const b = { baseMs: 5, maxMs: 1000, jitter: 0 };
    expect([0, 1, 2, 3, 10, 100].map((n) => backoffDelay(b, n))).to.deep.equal([5, 10, 20, 40, 1000, 1000]);
  });

  it("parses Flux's runtime flags and leaves others in rest", function () {
    const { flags, rest } = parseRuntimeFlags([
      "--concurrent=8", "--kube-api-qps", "25.5", "--kube-api-burst=100", "--log-level=debug",
      "--enable-leader-election", "--leader-election-lease-duration=40s", "--watch-all-namespaces=false",
      "--storage-path=/data", "positional",
    ]);
    expect(flags).to.deep.include({
      concurrent: 8, kubeApiQps: 25.5, kubeApiBurst: 100, logLevel: "debug", enableLeaderElection: true,
      leaderElectionLeaseDurationMs: 40_000, watchAllNamespaces: false, metricsAddr: defaultRuntimeFlags.metricsAddr,
    });
    expect(rest).to.deep.equal(["--storage-path=/data", "positional"]);
  });

  it("rejects malformed flag values with the flag's name", function () {
    expect(() => parseRuntimeFlags(["--concurrent=many"])).to.throw(/--concurrent/);
    expect(() => parseRuntimeFlags(["--leader-election-retry-period=5"])).to.throw(/--leader-election-retry-period/);
    expect(() => parseRuntimeFlags(["--kube-api-burst"])).to.throw(/needs a value/);
  });
});
