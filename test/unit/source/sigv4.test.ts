import { expect } from "chai";
import { EMPTY_SHA256, amzDate, sha256Hex, signRequest, signingKey, uriEncode } from "../../../controllers/source/bucket/sigv4";
import { indexRevision } from "../../../controllers/source/bucket/bucket-reconciler";
import { endpointUrl, trimEtag } from "../../../controllers/source/bucket/s3-client";

// The worked examples of the S3 API reference, "Signature Calculations for the Authorization
// Header: Transferring Payload in a Single Chunk (AWS Signature Version 4)", and the "get-vanilla"
// case of AWS's SigV4 test suite. Inputs and expected signatures are AWS's.
const S3_CREDS = { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" };
const S3_DATE = new Date("2013-05-24T00:00:00Z");

describe("source: AWS Signature V4 (AWS documented examples)", function () {
  it("GET Object with a Range header", function () {
    const s = signRequest({
      method: "GET", url: new URL("https://examplebucket.s3.amazonaws.com/test.txt"), service: "s3", region: "us-east-1", date: S3_DATE,
      headers: { range: "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA256 }, payloadHash: EMPTY_SHA256, credentials: S3_CREDS,
    });
    expect(s.canonicalRequest).to.equal([
      "GET", "/test.txt", "",
      "host:examplebucket.s3.amazonaws.com", "range:bytes=0-9", `x-amz-content-sha256:${EMPTY_SHA256}`, "x-amz-date:20130524T000000Z", "",
      "host;range;x-amz-content-sha256;x-amz-date", EMPTY_SHA256,
    ].join("\n"));
    expect(s.stringToSign).to.equal("AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    expect(s.signature).to.equal("f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    expect(s.headers.authorization).to.equal("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
      + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  });

  it("PUT Object with a payload, an escaped key and a Date header", function () {
    const body = "Welcome to Amazon S3.";
    const hash = sha256Hex(body);
    expect(hash).to.equal("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const s = signRequest({
      method: "PUT", url: new URL(`https://examplebucket.s3.amazonaws.com/${uriEncode("test$file.text", true)}`), service: "s3", region: "us-east-1", date: S3_DATE,
      headers: { Date: "Fri, 24 May 2013 00:00:00 GMT", "x-amz-storage-class": "REDUCED_REDUNDANCY", "x-amz-content-sha256": hash },
      payloadHash: hash, credentials: S3_CREDS,
    });
    expect(s.canonicalRequest.split("\n").slice(0, 2)).to.deep.equal(["PUT", "/test%24file.text"]);
    expect(s.signature).to.equal("98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  });

  it("GET Bucket lifecycle (a query parameter without a value)", function () {
    const s = signRequest({
      method: "GET", url: new URL("https://examplebucket.s3.amazonaws.com/?lifecycle"), service: "s3", region: "us-east-1", date: S3_DATE,
      headers: { "x-amz-content-sha256": EMPTY_SHA256 }, payloadHash: EMPTY_SHA256, credentials: S3_CREDS,
    });
    expect(s.canonicalRequest.split("\n")[2]).to.equal("lifecycle=");
    expect(s.signature).to.equal("fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  });

  it("GET Bucket (List Objects) with query parameters in canonical order", function () {
    const s = signRequest({
      method: "GET", url: new URL("https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J"), service: "s3", region: "us-east-1", date: S3_DATE,
      headers: { "x-amz-content-sha256": EMPTY_SHA256 }, payloadHash: EMPTY_SHA256, credentials: S3_CREDS,
    });
    expect(s.canonicalRequest.split("\n")[2]).to.equal("max-keys=2&prefix=J");
    expect(s.signature).to.equal("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  });

  it("get-vanilla from the SigV4 test suite (a non-S3 service)", function () {
    const s = signRequest({
      method: "GET", url: new URL("https://example.amazonaws.com/"), service: "service", region: "us-east-1", date: new Date("2015-08-30T12:36:00Z"),
      headers: {}, payloadHash: EMPTY_SHA256, credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
    });
    expect(s.signature).to.equal("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  });

  it("derives the signing key of the AWS example", function () {
    // "Examples of how to derive a signing key for Signature Version 4" (IAM user guide).
    expect(signingKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam").toString("hex"))
      .to.equal("f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  });

  it("encodes like RFC 3986 and formats x-amz-date", function () {
    expect(uriEncode("a b/c+d=e~f_g.h-i*ü")).to.equal("a%20b%2Fc%2Bd%3De~f_g.h-i%2A%C3%BC");
    expect(uriEncode("dir/x y", true)).to.equal("dir/x%20y");
    expect(amzDate(new Date("2013-05-24T01:02:03.456Z"))).to.equal("20130524T010203Z");
  });
});

describe("source: Bucket index revision and endpoints (pure logic)", function () {
  it("digests `<key> <etag>\\n` lines in key order, as Flux's index digester", function () {
    const idx = new Map([["b.yaml", "2"], ["a.yaml", "1"]]);
    expect(indexRevision(idx)).to.equal(`sha256:${sha256Hex("a.yaml 1\nb.yaml 2\n")}`);
    expect(indexRevision(new Map())).to.equal(`sha256:${EMPTY_SHA256}`);
    expect(indexRevision(new Map([["a.yaml", "1"], ["b.yaml", "3"]]))).to.not.equal(indexRevision(idx));
  });

  it("turns spec.endpoint and spec.insecure into a base URL, refusing what cannot be one", function () {
    expect(endpointUrl("minio.local:9000").toString()).to.equal("https://minio.local:9000/");
    expect(endpointUrl("minio.local:9000", true).toString()).to.equal("http://minio.local:9000/");
    expect(endpointUrl("https://s3.amazonaws.com").toString()).to.equal("https://s3.amazonaws.com/");
    expect(() => endpointUrl("http://minio.local")).to.throw(/set spec.insecure: true/);
    expect(() => endpointUrl("minio.local/path")).to.throw(/without a path/);
    expect(() => endpointUrl("ftp://minio.local")).to.throw(/unsupported scheme 'ftp'/);
    expect(trimEtag('"abc"')).to.equal("abc");
  });
});
