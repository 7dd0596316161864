import { expect } from "chai";
import { goDuration } from "../../../controllers/kustomize/go-duration";
import { GenerateError, kustomizationFor } from "../../../controllers/kustomize/kustomization-file";
import { buildClosure } from "../../../controllers/kustomize/materialize";
import { parseDoc } from "../../../controllers/kustomize/yaml-docs";
import { FileTree } from "../../../controllers/runtime/tar-reader";

const tree = (files: Record<string, string>): FileTree => new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)]));
const spec = { interval: "5m", prune: true, sourceRef: { kind: "GitRepository" as const, name: "r" } };

describe("kustomize: kustomization.yaml generation and build closure", function () {
  it("generates resources for a plain directory, sub-kustomizations as directories", () => {
    const files = tree({ "app/a.yaml": "kind: A\n", "app/sub/b.yml": "kind: B\n", "app/base/kustomization.yaml": "resources: []\n", "app/base/x.yaml": "kind: X\n", "app/README.md": "#" });
    const k = kustomizationFor(files, "app", { ...spec, targetNamespace: "t", namePrefix: "p-" });
    expect(k.path).to.equal("app/kustomization.yaml");
    expect(parseDoc(k.content)).to.deep.include({ resources: ["./a.yaml", "./base", "./sub/b.yml"], namespace: "t", namePrefix: "p-" });
  });

  it("merges spec fields into an existing kustomization and validates components", () => {
    const files = tree({ "k/kustomization.yaml": "resources: [cm.yaml]\nimages:\n  - name: nginx\n    newTag: '1'\n" });
    const k = kustomizationFor(files, "k", { ...spec, images: [{ name: "nginx", newName: "my/nginx" }, { name: "redis", newTag: "7" }], components: ["../missing"], ignoreMissingComponents: true });
    expect(parseDoc(k.content)).to.deep.include({ images: [{ name: "nginx", newTag: "1", newName: "my/nginx" }, { name: "redis", newTag: "7" }] });
    expect(() => kustomizationFor(files, "k", { ...spec, components: ["https://example.com/c"] })).to.throw(GenerateError, "must be local and relative");
  });

  it("reports YAML that does not parse, naming the file", () => {
    expect(() => kustomizationFor(tree({ "bad.yaml": "a: [\n" }), "", spec)).to.throw(GenerateError, "failed to decode Kubernetes YAML from bad.yaml");
  });

  it("picks only the files a build needs, following references outside the path", () => {
    const files = tree({
      "overlays/prod/kustomization.yaml": "resources: [../../base]\npatches:\n  - path: ../../patches/p.yaml\n",
      "base/kustomization.yaml": "resources: [cm.yaml]\n", "base/cm.yaml": "kind: ConfigMap\n",
      "patches/p.yaml": "kind: ConfigMap\n", "unrelated/x.yaml": "kind: X\n",
    });
    const k = kustomizationFor(files, "overlays/prod", spec);
    expect([...buildClosure(files, "overlays/prod", k)].sort()).to.deep.equal(["base/cm.yaml", "base/kustomization.yaml", "patches/p.yaml"]);
    const escape = tree({ "a/kustomization.yaml": "resources: [../../../etc]\n" });
    expect(() => buildClosure(escape, "a", kustomizationFor(escape, "a", spec))).to.throw(GenerateError, "outside the source root");
  });

  it("parses manifests the way Flux's Go YAML does", () => {
    expect(parseDoc("a: on\nb: 0755\nc: 8080:80\nd: 2024-01-01\n")).to.deep.equal({ a: true, b: 493, c: "8080:80", d: "2024-01-01" });
  });

  it("prints durations as Go does", () => {
    expect([goDuration(600_000), goDuration(1500), goDuration(176.163666), goDuration(3_600_000), goDuration(0)]).to.deep.equal(["10m0s", "1.5s", "176.163666ms", "1h0m0s", "0s"]);
  });
});
