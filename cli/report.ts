/**
 * `uring-bench report FILES... [-o report.html]`: a self-contained HTML page
 * with SVG bar charts from saved runs. `--compare A B`: ratios between two
 * saved runs, printed as a table.
 */
import { Command } from "commander";
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { compareRows } from "./harness/compare.ts";
import { OptionError } from "./harness/option-error.ts";
import { checkBaseline } from "./harness/options.ts";
import { drawTable } from "./harness/render-table.ts";
import { renderHtmlReport, renderStandaloneSvg } from "./harness/report-html.ts";
import { loadRun } from "./harness/save.ts";
import { contextLine } from "./harness/rows.ts";

/** Options of the report command. */
interface ReportOptions {
  output: string;
  compare?: boolean;
  title?: string;
  baseline?: string;
  svg?: string;
}

/** Arguments as files: a directory stands for the *.json files in it, sorted by name. */
export function expandFiles(args: string[]): string[] {
  return args.flatMap((a) => {
    if (!existsSync(a) || !statSync(a).isDirectory()) return [a];
    const found = readdirSync(a)
      .filter((f) => f.endsWith(".json"))
      .sort()
      .map((f) => join(a, f));
    if (found.length === 0) throw new Error(`${a}: a directory with no .json result files in it.`);
    return found;
  });
}

/** The `report` subcommand. */
export function reportCommand(): Command {
  return new Command("report")
    .description("render saved results (results/*.json) as an HTML page with bar charts, or compare two runs")
    .argument("<files...>", "saved result files (from --save or --json <path>), or folders of them")
    .option("-o, --output <file>", 'HTML file to write ("-" for stdout)', "report.html")
    .option("--compare", "print ratios between exactly two runs, A then B, instead of writing HTML")
    .option("--title <text>", "page title")
    .option("--baseline <variant>", "variant the ratio column compares against")
    .option("--svg <file>", "also write the chart as a standalone SVG (one file per run: name-1.svg, name-2.svg when several)")
    .addHelpText(
      "after",
      "\nExamples:\n  uring-bench report results/*.json -o report.html\n  uring-bench report --compare results/before.json results/after.json",
    )
    .action((files: string[], opts: ReportOptions) => {
      const runs = expandFiles(files).map((f) => ({ run: loadRun(f), source: f }));
      // An unknown --baseline would divide by the cell's first variant under the asked-for name.
      if (opts.baseline !== undefined && !runs.some(({ run }) => run.results.some((r) => r.variant === opts.baseline))) {
        checkBaseline(opts.baseline, [...new Set(runs.flatMap(({ run }) => run.results.map((r) => r.variant)))]);
      }
      if (opts.compare) {
        if (runs.length !== 2) {
          throw new OptionError(`--compare takes exactly two result files (A then B), got ${runs.length}.`);
        }
        const [a, b] = runs as [(typeof runs)[0], (typeof runs)[0]];
        if (a.run.command !== b.run.command) {
          console.error(`note: comparing different commands (${a.run.command} vs ${b.run.command}); only matching cell × variant pairs get ratios.`);
        }
        console.log(`A: ${a.source}\n   ${contextLine(a.run)}\nB: ${b.source}\n   ${contextLine(b.run)}`);
        console.log(drawTable(compareRows(a.run, b.run)));
        return;
      }
      if (opts.svg) {
        const svgPath = opts.svg;
        runs.forEach(({ run }, i) => {
          const path = runs.length === 1 ? svgPath : svgPath.replace(/(\.svg)?$/, `-${i + 1}.svg`);
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, renderStandaloneSvg(run));
          console.error(`wrote ${path}`);
        });
      }
      const html = renderHtmlReport(runs, { title: opts.title, baseline: opts.baseline });
      if (opts.output === "-") {
        process.stdout.write(html);
        return;
      }
      mkdirSync(dirname(opts.output), { recursive: true });
      writeFileSync(opts.output, html);
      console.error(`wrote ${opts.output} (${runs.length} run${runs.length === 1 ? "" : "s"})`);
    });
}
