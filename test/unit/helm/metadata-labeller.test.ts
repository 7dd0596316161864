// The in-process labelling of helm's rendering must give helm the objects kustomize's
// LabelTransformer and AnnotationsTransformer give it (what Flux runs): scalars as yaml.v3 reads
// them (`on`, `y`, `1:20` strings, 0777 octal, dates as RFC 3339 text), and refuse what is not YAML.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { tool } from "../../../cli/tools";
import { LabelError, labelManifests } from "../../../controllers/helm/metadata-labeller";
import { makeTempDir, removeDir, runChecked } from "../../support/git-cli";

const labels = { "helm.toolkit.fluxcd.io/name": "app", "helm.toolkit.fluxcd.io/namespace": "no", team: "0777" };
const annotations = { "example.com/owner": "on" };

const rendered = `---
# Source: small/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  labels:
    x: y
    helm.toolkit.fluxcd.io/name: old
  annotations:
    keep: "1"
data:
  octal: 0777
  flag: on
  time: 1:20
  under: 1_000
  hex: 0x1F
  oct: 0o17
  exp: 1e3
  half: .5
  none: ~
  yes: Yes
  stamp: 2001-12-14t21:59:43.10-05:00
  spaced: 2001-12-14 21:59:43.10
  big: 12345678901234567890
  alias: &a [1, 2]
  again: *a
  text: |
    multi
    line
---
# Source: small/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
    name: b   # a comment
spec:
  ports: [{port: 80}]
  selector:
    app: b
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {z: "1"}}
data: {octal: 0777, when: 2001-12-14}
---
# only a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: d
`;

/** Objects as helm reads them (YAML 1.1), a List's items as their own objects, by name. */
function objects(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of parseAllDocuments(text, { version: "1.1", intAsBigInt: true })) {
    const o = d.toJS() as { kind?: string; items?: unknown[]; metadata?: { name: string } } | null;
    if (!o) continue;
    for (const x of (o.kind === "List" ? o.items : [o]) as Array<{ metadata: { name: string } }>) out[x.metadata.name] = x;
  }
  return out;
}

describe("helm-controller: labelling the rendered manifests in process", function () {
  this.timeout(60_000);
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  it("gives the objects kustomize's label and annotation transformers give", async () => {
    fs.writeFileSync(path.join(dir, "helm-output.yaml"), rendered);
    const t = (kind: string, name: string, field: string, values: object) => JSON.stringify({
      apiVersion: "builtin", kind, metadata: { name }, [field]: values, fieldSpecs: [{ path: `metadata/${field}`, create: true }],
    });
    fs.writeFileSync(path.join(dir, "l.json"), t("LabelTransformer", "l", "labels", labels));
    fs.writeFileSync(path.join(dir, "a.json"), t("AnnotationsTransformer", "a", "annotations", annotations));
    fs.writeFileSync(path.join(dir, "kustomization.yaml"), JSON.stringify({ resources: ["helm-output.yaml"], transformers: ["l.json", "a.json"] }));
    const kustomized = await runChecked(tool("kustomize"), ["build", dir]);
    const ours = labelManifests(rendered, labels, annotations);
    expect(objects(ours)).to.deep.equal(objects(kustomized));
    const a = objects(ours).a as { metadata: { labels: Record<string, unknown> }; data: Record<string, unknown> };
    expect(a.metadata.labels).to.deep.equal({ x: "y", ...labels });
    expect(a.data).to.include({ octal: BigInt(511), flag: "on", time: "1:20", under: BigInt(1000), oct: BigInt(15), yes: "Yes", stamp: "2001-12-14T21:59:43.1-05:00", spaced: "2001-12-14T21:59:43.1Z" });
    expect((objects(ours).c as { data: object }).data).to.deep.equal({ octal: BigInt(511), when: "2001-12-14T00:00:00Z" });
  });

  it("keeps an empty rendering empty", () => {
    expect(labelManifests("", labels)).to.equal("");
    expect(labelManifests("# nothing\n---\n", labels)).to.equal("");
  });

  it("refuses what is not YAML or not an object, saying what", () => {
    expect(() => labelManifests("a: [", labels)).to.throw(LabelError, /the rendered manifests are not valid YAML/);
    expect(() => labelManifests("--- just text\n", labels)).to.throw(LabelError, /a rendered document is not an object: "just text"/);
  });
});
