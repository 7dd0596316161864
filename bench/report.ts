// Writes one "## <title>" section of docs/benchmarks.md, leaving the other sections alone.
import * as fs from "node:fs";

export function writeSection(file: string, title: string, body: string): void {
  let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\n\nRatios against a reference measured in the same run. Re-run with the commands given per section.\n";
  const header = `## ${title}`;
  const start = text.indexOf(header);
  const section = `${header}\n\n${body.trim()}\n`;
  if (start < 0) text = text.trimEnd() + "\n\n" + section;
  else {
    const next = text.indexOf("\n## ", start + header.length);
    text = text.slice(0, start) + section + (next < 0 ? "" : text.slice(next + 1).replace(/^/, "\n"));
  }
  fs.writeFileSync(file, text);
}
