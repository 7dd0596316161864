import { expect } from "chai";
import { authFromSecretData, proxyFromSecretData } from "../../../controllers/source/git/auth";
import { latestSemverTag } from "../../../controllers/source/git/client";

describe("source: git references and credentials (pure logic)", function () {
  const tags = ["v1.0.0", "v1.1.0", "1.2.0", "v2.0.0-rc.1", "latest", "v1.10.0"];

  it("picks the highest tag in a range, with or without a v prefix", function () {
    expect(latestSemverTag(tags, ">=1.0.0 <2.0.0")).to.equal("v1.10.0");
    expect(latestSemverTag(tags, "~1.1")).to.equal("v1.1.0");
    expect(latestSemverTag(tags, ">= 1.0.0, < 1.2.0")).to.equal("v1.1.0");
    expect(latestSemverTag(tags, ">=3.0.0")).to.equal(undefined);
  });

  it("considers pre-releases only when the range asks for them", function () {
    expect(latestSemverTag(tags, ">=2.0.0-0")).to.equal("v2.0.0-rc.1");
    expect(latestSemverTag(tags, ">=2.0.0")).to.equal(undefined);
  });

  it("rejects an invalid range with a parse error", function () {
    expect(() => latestSemverTag(tags, "not a range!")).to.throw(/semver parse error/);
  });

  it("reads Flux's Secret keys and says what is missing", function () {
    expect(authFromSecretData("https://h/r", { username: "u", password: "p", "ca.crt": "CA" }, "ns/s")).to.deep.equal({ username: "u", password: "p", caCert: "CA" });
    expect(authFromSecretData("https://h/r", { bearerToken: "t" }, "ns/s")).to.deep.equal({ bearerToken: "t" });
    expect(() => authFromSecretData("https://h/r", { username: "u" }, "ns/s")).to.throw(/needs both 'username' and 'password'/);
    expect(() => authFromSecretData("ssh://git@h/r", { identity: "k" }, "ns/s")).to.throw(/'known_hosts' is missing/);
    expect(() => authFromSecretData("https://h/r", { "tls.crt": "c" }, "ns/s")).to.throw(/'tls.crt' and 'tls.key' must be given together/);
    expect(() => proxyFromSecretData({ address: "ftp://x" }, "ns/p")).to.throw(/must be http/);
  });
});
