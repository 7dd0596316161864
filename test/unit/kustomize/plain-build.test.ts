// The in-process build of plain directories must equal what the real kustomize builds from
// the generated kustomization.yaml; anything it cannot reproduce exactly goes to kustomize.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { hasTool, tool } from "../../../cli/tools";
import { kustomizationFor } from "../../../controllers/kustomize/kustomization-file";
import { plainBuild } from "../../../controllers/kustomize/plain-build";
import { FileTree } from "../../../controllers/runtime/tar-reader";
import { parseDoc, splitDocs } from "../../../controllers/kustomize/yaml-docs";

const tree = (files: Record<string, string>): FileTree => new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));
const spec = (extra = {}) => ({ interval: "5m", prune: true, sourceRef: { kind: "GitRepository" as const, name: "r" }, ...extra });
const key = (o: Record<string, unknown>) => { const m = o.metadata as { namespace?: string; name: string }; return `${String(o.kind)}/${m.namespace ?? ""}/${m.name}`; };

function kustomizeBuild(files: FileTree, dir: string, s: ReturnType<typeof spec>): Array<Record<string, unknown>> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "plain-build-"));
  try {
    for (const [p, c] of files) { fs.mkdirSync(path.dirname(path.join(work, p)), { recursive: true }); fs.writeFileSync(path.join(work, p), c); }
    const k = kustomizationFor(files, dir, s);
    fs.writeFileSync(path.join(work, k.path), k.content);
    const out = execFileSync(tool("kustomize"), ["build", path.join(work, dir)], { encoding: "utf8" });
    return splitDocs(out).map((d) => parseDoc(d) as Record<string, unknown>);
  } finally { fs.rmSync(work, { recursive: true, force: true }); }
}

const sorted = (objs: Array<Record<string, unknown>>) => [...objs].sort((a, b) => key(a).localeCompare(key(b)));

describe("kustomize: in-process build of plain directories", function () {
  before(function () { if (!hasTool("kustomize")) this.skip(); });

  const files = tree({
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  namespace: elsewhere\ndata:\n  mode: '0755'\n  flag: \"on\"\n  ports: 8080:80\n  quoted: \"yes\"\n",
    "app/multi.yml": "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  ports:\n    - port: 80\n---\n# only a comment\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: c, image: \"nginx:1.27\", args: [\"--x=1\"]}]\n",
    "app/nested/deeper/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  k: |\n    multi\n    line\n",
    "app/notes.txt": "ignored",
  });

  for (const targetNamespace of [undefined, "target"]) {
    it(`equals kustomize's output (targetNamespace ${targetNamespace ?? "unset"})`, () => {
      const s = spec(targetNamespace ? { targetNamespace } : {});
      const ours = plainBuild(files, "app", s);
      expect(ours, "the fast path applies").to.not.equal(undefined);
      expect(sorted(ours!.map((d) => d.obj))).to.deep.equal(sorted(kustomizeBuild(files, "app", s)));
    });
  }

  it("leaves to kustomize what it cannot reproduce exactly", () => {
    const with_ = (f: Record<string, string>, s = spec()) => plainBuild(tree({ "app/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n", ...f }), "app", s);
    expect(with_({})).to.not.equal(undefined);
    expect(with_({ "app/kustomization.yaml": "resources: [a.yaml]\n" })).to.equal(undefined);
    expect(with_({ "app/rb.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: rb\n" })).to.equal(undefined);
    expect(with_({ "app/anchors.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata: &d\n  x: \"1\"\n" })).to.equal(undefined);
    expect(with_({}, spec({ namePrefix: "p-" }))).to.equal(undefined);
    expect(with_({}, spec({ postBuild: { substitute: { a: "b" } } }))).to.equal(undefined);
    expect(with_({ "app/dup.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n" })).to.equal(undefined);
  });
});
