// The Setters strategy and the commit message template on their own (no cluster): real
// manifests (a Deployment, a HelmRelease's values, a kustomization.yaml, several documents in
// one file) rewritten only where a setter comment marks the value, byte for byte elsewhere;
// and the Go text/template subset on the templates of Flux's docs.
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { applySetters, applySettersToTree, setterValues } from "../../../controllers/image-automation/setters";
import { TemplateParseError, executeTemplate, goStruct, parseTemplate } from "../../../controllers/image-automation/template";

const values = setterValues("flux-system", new Map([
  ["app", { name: "registry.local:5000/org/app", tag: "1.1.0" }],
  ["pinned", { name: "ghcr.io/org/pinned", tag: "2.0.0", digest: "sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0" }],
]));

const deployment = `# The app, managed by Flux
apiVersion: apps/v1
kind: Deployment
metadata:
  name: my-app   # keep this comment
  namespace: default
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: my-app
          image: registry.local:5000/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}
          args: ["--port",   "8080"]     # odd spacing stays
        - name: sidecar
          image: "ghcr.io/org/pinned:1.0.0"   # {"$imagepolicy": "flux-system:pinned"}
        - name: other
          image: registry.local:5000/org/app:0.1.0 # {"$imagepolicy": "other-ns:app"}
`;

describe("image-automation: Setters strategy (setter comments in YAML)", () => {
  it("updates a Deployment's images, and leaves every other byte of the file as it was", () => {
    const r = applySetters(deployment, values, "deploy.yaml");
    const want = deployment
      .replace("image: registry.local:5000/org/app:1.0.0 #", "image: registry.local:5000/org/app:1.1.0 #")
      .replace(`image: "ghcr.io/org/pinned:1.0.0"`, `image: "ghcr.io/org/pinned:2.0.0@sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0"`);
    expect(r.text).to.equal(want);
    expect(r.changes).to.deep.equal([{
      object: { Name: "my-app", Namespace: "default", APIVersion: "apps/v1", Kind: "Deployment" },
      changes: [
        { OldValue: "registry.local:5000/org/app:1.0.0", NewValue: "registry.local:5000/org/app:1.1.0", Setter: "flux-system:app" },
        { OldValue: "ghcr.io/org/pinned:1.0.0", NewValue: "ghcr.io/org/pinned:2.0.0@sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0", Setter: "flux-system:pinned" },
      ],
    }]);
  });

  it("updates :name, :tag and :digest fields of HelmRelease values, keeping single quotes", () => {
    const src = [
      "apiVersion: helm.toolkit.fluxcd.io/v2",
      "kind: HelmRelease",
      "metadata: {name: my-app, namespace: apps}",
      "spec:",
      "  values:",
      "    image:",
      "      repository: 'ghcr.io/org/old' # {\"$imagepolicy\": \"flux-system:pinned:name\"}",
      "      tag: 1.0.0 # {\"$imagepolicy\": \"flux-system:pinned:tag\"}",
      "      digest: sha256:0000 # {\"$imagepolicy\": \"flux-system:pinned:digest\"}",
      "      pullPolicy: IfNotPresent",
      "",
    ].join("\r\n");
    const r = applySetters(src, values);
    expect(r.text).to.equal(src.replace("'ghcr.io/org/old'", "'ghcr.io/org/pinned'").replace("tag: 1.0.0", "tag: 2.0.0")
      .replace("sha256:0000", "sha256:6129bb944cada32b4662eafd13fd9904d34c77286bf2ec4523eaedb711757cb0"));
    expect(r.changes[0].object).to.deep.equal({ Name: "my-app", Namespace: "apps", APIVersion: "helm.toolkit.fluxcd.io/v2", Kind: "HelmRelease" });
    expect(r.changes[0].changes.map((c) => c.Setter)).to.deep.equal(["flux-system:pinned:name", "flux-system:pinned:tag", "flux-system:pinned:digest"]);
  });

  it("leaves a :digest setter alone when the policy reflects no digest, and values already current", () => {
    const src = "images:\n  - name: app\n    newTag: 1.1.0 # {\"$imagepolicy\": \"flux-system:app:tag\"}\n    digest: sha256:1 # {\"$imagepolicy\": \"flux-system:app:digest\"}\n";
    expect(applySetters(src, values)).to.deep.equal({ text: src, changes: [] });
  });

  it("keeps apart the objects of a multi-document file, and ignores setters in block scalars and plain comments", () => {
    const src = `apiVersion: v1
kind: ConfigMap
metadata:
  name: one
data:
  script: |
    image: x:1 # {"$imagepolicy": "flux-system:app"}
---
# image: x:1 # {"$imagepolicy": "flux-system:app"}
apiVersion: batch/v1
kind: Job
metadata:
  name: two
spec:
  template:
    spec:
      containers:
        - image: x:1 # {"$imagepolicy": "flux-system:app:tag"}
`;
    const r = applySetters(src, values);
    expect(r.text).to.equal(src.replace("- image: x:1 #", "- image: 1.1.0 #"));
    expect(r.changes.map((c) => c.object.Name)).to.deep.equal(["two"]);
  });

  it("reports a file it cannot parse, naming it", () => {
    expect(() => applySetters("a: [1, 2\nb: x # {\"$imagepolicy\": \"flux-system:app\"}\n", values, "apps/broken.yaml")).to.throw(/failed to parse apps\/broken.yaml/);
  });

  it("walks a tree: .yaml and .yml files, not .git, paths relative to the update path", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-setters-"));
    try {
      fs.mkdirSync(path.join(dir, "apps", "nested"), { recursive: true });
      fs.mkdirSync(path.join(dir, ".git"));
      const line = "image: a:1 # {\"$imagepolicy\": \"flux-system:app\"}\n";
      fs.writeFileSync(path.join(dir, "apps", "a.yaml"), line);
      fs.writeFileSync(path.join(dir, "apps", "nested", "b.yml"), line);
      fs.writeFileSync(path.join(dir, "apps", "c.txt"), line);
      fs.writeFileSync(path.join(dir, ".git", "d.yaml"), line);
      const changes = applySettersToTree(path.join(dir, "apps"), path.join(dir, "apps"), values);
      expect(changes.map((c) => c.file)).to.deep.equal(["a.yaml", "nested/b.yml"]);
      expect(fs.readFileSync(path.join(dir, "apps", "c.txt"), "utf8")).to.equal(line);
      expect(fs.readFileSync(path.join(dir, ".git", "d.yaml"), "utf8")).to.equal(line);
      expect(fs.readFileSync(path.join(dir, "apps", "a.yaml"), "utf8")).to.equal("image: registry.local:5000/org/app:1.1.0 # {\"$imagepolicy\": \"flux-system:app\"}\n");
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});

describe("image-automation: commit message template (Go text/template subset)", () => {
  const oid = goStruct(["APIVersion", "Kind", "Name", "Namespace"], { APIVersion: "apps/v1", Kind: "Deployment", Name: "My-App", Namespace: "default" });
  const change = goStruct(["OldValue", "NewValue", "Setter"], { OldValue: "app:5.0.2", NewValue: "app:5.0.3", Setter: "flux-system:app" });
  const files = new Map([["deploy.yaml", new Map([[oid, [change]]])]]);
  const data = goStruct(["AutomationObject", "Changed", "Values"], {
    AutomationObject: goStruct(["Namespace", "Name"], { Namespace: "flux-system", Name: "auto", String: () => "flux-system/auto" }),
    Changed: goStruct(["FileChanges"], { FileChanges: files, Changes: () => [change], Objects: () => files.get("deploy.yaml") }),
    Values: new Map([["cluster", "prod"]]),
  });
  const render = (t: string) => executeTemplate(parseTemplate(t), data);

  it("renders the example template of Flux's spec, with functions and trimming", () => {
    const t = `Automated image update

Automation name: {{ .AutomationObject }}

Files:
{{ range $filename, $_ := .Changed.FileChanges -}}
- {{ $filename }}
{{ end -}}

Objects:
{{ range $resource, $changes := .Changed.Objects -}}
- {{ $resource.Kind | lower }} {{ $resource.Name | lower }}
  Changes:
{{- range $_, $change := $changes }}
    {{ if contains "5.0.3" $change.NewValue -}}
      - {{ $change.OldValue }} -> {{ $change.NewValue }}
    {{ else -}}
      [skip ci] wrong image
    {{ end -}}
{{ end -}}
{{ end -}}`;
    expect(render(t)).to.equal("Automated image update\n\nAutomation name: flux-system/auto\n\nFiles:\n- deploy.yaml\nObjects:\n- deployment my-app\n  Changes:\n    - app:5.0.2 -> app:5.0.3\n    ");
  });

  it("renders .Changed.Changes with print/println, .Values, variables and the Gerrit Change-Id recipe", () => {
    expect(render("{{range .Changed.Changes}}{{print .OldValue}} -> {{println .NewValue}}{{end}}")).to.equal("app:5.0.2 -> app:5.0.3\n");
    expect(render("Automated image update by Flux for cluster {{ .Values.cluster }}.")).to.equal("Automated image update by Flux for cluster prod.");
    const gerrit = render(`{{- $ChangeId := .AutomationObject -}}
{{- $ChangeId = printf "%s%s" $ChangeId ( .Changed.Changes | toString ) -}}
Change-Id: {{ printf "I%s" ( sha256sum $ChangeId | trunc 40 ) }}`);
    expect(gerrit).to.match(/^Change-Id: I[0-9a-f]{40}$/);
    expect(render("{{ if eq (len .Changed.Changes) 1 }}one{{ else if gt (len .Changed.Changes) 1 }}many{{ else }}none{{ end }}")).to.equal("one");
    expect(render("{{ with .Values.cluster }}[{{ . }}]{{ end }}{{ range .Values.nothing }}x{{ else }}empty{{ end }}")).to.equal("[prod]empty");
  });

  it("rejects templates Go's parser rejects, with the line", () => {
    for (const [t, msg] of [
      ["{{ if .Values }}unterminated", /unexpected EOF/],
      ["line one\n{{ nope .Values }}", /commit message:2: function "nope" not defined/],
      ["{{ end }}", /unexpected \{\{end\}\}/],
      ["{{ .Values", /unclosed action/],
      ["{{ template \"x\" }}", /not supported/],
    ] as const) expect(() => parseTemplate(t), t).to.throw(TemplateParseError, msg);
  });
});
