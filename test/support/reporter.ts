// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed".
// With GITOPS_FIELD_COVERAGE_DIR set it also writes when each test file and test ran and whether
// it passed, which controllers/api/compat-table.ts joins with the API server's audit log to say
// which tests set which spec field (docs/compatibility.md).
import * as fs from "node:fs";
import * as path from "node:path";
import * as Mocha from "mocha";

const { EVENT_RUN_END, EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_TEST_BEGIN, EVENT_TEST_PASS, EVENT_TEST_FAIL } = Mocha.Runner.constants;

interface TestSpan { file: string; title?: string; start: number; end: number; passed: boolean }

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const coverageDir = process.env.GITOPS_FIELD_COVERAGE_DIR;
    const spans: TestSpan[] = [];
    if (coverageDir) {
      const rel = (f?: string) => (f ? path.relative(process.cwd(), f) : "");
      const open = new Map<Mocha.Suite | Mocha.Test, number>();
      runner.on(EVENT_SUITE_BEGIN, (s: Mocha.Suite) => { if (s.file && s.parent?.root) open.set(s, Date.now()); });
      runner.on(EVENT_SUITE_END, (s: Mocha.Suite) => {
        const start = open.get(s);
        if (start === undefined) return;
        const failed = (x: Mocha.Suite): boolean => x.tests.some((t) => t.state === "failed") || x.suites.some(failed);
        spans.push({ file: rel(s.file), start, end: Date.now(), passed: !failed(s) });
      });
      runner.on(EVENT_TEST_BEGIN, (t: Mocha.Test) => open.set(t, Date.now()));
      const done = (passed: boolean) => (t: Mocha.Test) => spans.push({ file: rel(t.file), title: t.fullTitle(), start: open.get(t) ?? Date.now(), end: Date.now(), passed });
      runner.on(EVENT_TEST_PASS, done(true));
      runner.on(EVENT_TEST_FAIL, done(false));
    }
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      if (coverageDir) fs.writeFileSync(path.join(coverageDir, `tests-${process.pid}.json`), JSON.stringify(spans));
      const skipped = s.pending ? `, ${s.pending} skipped (not counted as passed)` : "";
      // Printed after the spec reporter's epilogue.
      process.nextTick(() => console.log(`\n${s.passes} passed, ${s.failures} failed${skipped}`));
    });
  }
}

export = SummaryReporter;
