// Chart.yaml read in-process must say what `helm show chart` says, for charts the real helm
// packaged (with a subchart, whose Chart.yaml must not win), and refuse what helm refuses.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { tool } from "../../../cli/tools";
import { HelmError, showChart } from "../../../controllers/helm/helm-cli";
import type { HelmDeps } from "../../../controllers/helm/deps";
import { helmCreate, helmPackage } from "../../support/helm-repo";
import { makeTempDir, removeDir, runChecked } from "../../support/git-cli";

describe("helm-controller: Chart.yaml of a packaged chart", function () {
  this.timeout(60_000);
  const deps = {} as HelmDeps;
  let dir: string;
  before(() => { dir = makeTempDir(); });
  after(() => removeDir(dir));

  it("matches helm show chart for a packaged chart with a subchart, and for a chart directory", async () => {
    const chart = await helmCreate(path.join(dir, "src"), "parent", "1.2.3");
    fs.appendFileSync(path.join(chart, "Chart.yaml"), "appVersion: \"9.9\"\n"); // a repeated key, as helm create already wrote one
    await helmCreate(path.join(chart, "charts"), "child", "0.0.1");
    const tgz = await helmPackage(chart, path.join(dir, "out"));
    const env = { ...process.env, HELM_CONFIG_HOME: dir, HELM_CACHE_HOME: dir, HELM_DATA_HOME: dir };
    const helmSays = parse(await runChecked(tool("helm"), ["show", "chart", tgz], { env })) as { name: string; version: string; appVersion: string };
    const ours = await showChart(deps, tgz);
    expect(ours).to.deep.equal({ name: helmSays.name, version: helmSays.version, appVersion: helmSays.appVersion });
    expect(ours).to.deep.equal({ name: "parent", version: "1.2.3", appVersion: "9.9" });
    expect(await showChart(deps, chart)).to.deep.equal(ours);
  });

  it("refuses an archive without Chart.yaml and a file that is not a gzipped tar, as helm does", async () => {
    const empty = path.join(dir, "empty");
    fs.mkdirSync(path.join(empty, "nochart"), { recursive: true });
    fs.writeFileSync(path.join(empty, "nochart", "values.yaml"), "a: 1\n");
    const tgz = path.join(dir, "nochart.tgz");
    await runChecked("tar", ["-czf", tgz, "-C", empty, "nochart"]);
    await showChart(deps, tgz).then(() => expect.fail("accepted"), (e) => {
      expect(e).to.be.instanceOf(HelmError);
      expect((e as Error).message).to.equal("Chart.yaml file is missing");
    });
    const junk = path.join(dir, "junk.tgz");
    fs.writeFileSync(junk, "not a chart");
    await showChart(deps, junk).then(() => expect.fail("accepted"), (e) => expect((e as Error).message).to.match(/^junk\.tgz is not a packaged chart/));
  });
});
