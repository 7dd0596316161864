// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed".
import * as Mocha from "mocha";

const { EVENT_RUN_END } = Mocha.Runner.constants;

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats ?? { passes: 0, failures: 0, pending: 0 };
      const skipped = s.pending ? `, ${s.pending} skipped (not counted as passed)` : "";
      // Printed after the spec reporter's epilogue.
      process.nextTick(() => console.log(`\n${s.passes} passed, ${s.failures} failed${skipped}`));
    });
  }
}

export = SummaryReporter;
