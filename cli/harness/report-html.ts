/**
 * A self-contained HTML report of one or more saved runs: per run, an inline
 * SVG bar chart (one group per workload cell, one bar per variant, error bars
 * from the repetitions' min and max), the same tables as the terminal, and
 * the context. No scripts, no external assets: the file can be mailed or
 * attached to an issue as is.
 */
import type { RunResult, VariantResult } from "./result.ts";
import { cellsOf, contextLine, detailRows, gridRows, variantsOf, type Rows } from "./rows.ts";

/** Layout of the chart, px. Bars narrow enough that a 12-cell × 4-variant matrix fits a laptop screen. */
const CHART = { barWidth: 16, barGap: 2, groupGap: 22, height: 260, marginLeft: 64, marginRight: 16, marginTop: 20, marginBottom: 70 };
/** Approximate width of one 11px label character, for margins that fit the rotated cell labels. */
const CHAR_W = 6.2;
/** Width of one legend character, a little generous so no name touches the next swatch. */
const LEGEND_CHAR_W = 7;
/** Narrowest chart: a one-cell chart still has room for its axis, its label and a legend row. */
const MIN_CHART_W = 360;
/** Widest the legend grows on one row before it wraps (a laptop screen, as the bars). */
const MAX_LEGEND_ROW_W = 900;
/** Height of one legend row, px. */
const LEGEND_ROW_H = 18;

/** Legend entries laid out in rows that fit `maxW`: each entry's x offset within its row, and its row. */
export function layoutLegend(
  variants: readonly string[],
  maxW: number,
): { items: Array<{ variant: string; x: number; row: number }>; rows: number; width: number } {
  const items: Array<{ variant: string; x: number; row: number }> = [];
  let x = 0;
  let row = 0;
  let width = 0;
  for (const v of variants) {
    const w = 16 + Math.ceil(v.length * LEGEND_CHAR_W) + 12;
    if (x > 0 && x + w > maxW) {
      row++;
      x = 0;
    }
    items.push({ variant: v, x, row });
    x += w;
    width = Math.max(width, x);
  }
  return { items, rows: variants.length > 0 ? row + 1 : 0, width };
}

/** Colour per variant, in order of first appearance across the whole report (colour-blind-safe palette). */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

/** Escapes text for HTML and XML (element content and attribute values). */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Round axis steps: 1, 2, 5 × 10^k, about `count` of them up to `max`. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** 1234567 → "1.23M", 45600 → "45.6k". */
function shortNum(v: number): string {
  if (v >= 1e9) return `${Number((v / 1e9).toPrecision(3))}G`;
  if (v >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (v >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return `${Number(v.toPrecision(3))}`;
}

function minMax(r: VariantResult): [number, number] {
  if (r.repetitions.length === 0) return [r.opsPerSec, r.opsPerSec];
  return [Math.min(...r.repetitions), Math.max(...r.repetitions)];
}

/**
 * The SVG bar chart of one run: x = cells, a bar per variant (median ops/s),
 * a vertical error bar from the lowest to the highest repetition.
 * Each bar is a `<rect class="bar">` with data-cell and data-variant.
 */
export function renderChartSvg(run: RunResult, colorOf: (variant: string) => string): string {
  const cells = cellsOf(run.results);
  const variants = variantsOf(run.results);
  const groupW = variants.length * (CHART.barWidth + CHART.barGap) - CHART.barGap;
  const plotW = Math.max(1, cells.length) * (groupW + CHART.groupGap);
  // Cell labels are rotated 30° and end under their group: the first one must
  // not run off the left edge, the longest not off the bottom.
  const longest = Math.max(0, ...cells.map((c) => c.length)) * CHAR_W;
  const marginLeft = Math.max(CHART.marginLeft, Math.ceil(longest * Math.cos(Math.PI / 6) - groupW / 2 - CHART.groupGap / 2 + 8));
  const marginBottom = Math.max(CHART.marginBottom, Math.ceil(longest * Math.sin(Math.PI / 6) + 24));
  // The legend sets the width when the plot is narrow (one cell): the chart
  // grows to fit it on one row up to MAX_LEGEND_ROW_W, then the legend wraps.
  const oneRow = layoutLegend(variants, Infinity).width;
  const width = Math.max(marginLeft + plotW + CHART.marginRight, Math.min(marginLeft + oneRow + CHART.marginRight, MAX_LEGEND_ROW_W), MIN_CHART_W);
  const legend = layoutLegend(variants, width - marginLeft - CHART.marginRight);
  const legendH = legend.rows * LEGEND_ROW_H + 4;
  const height = CHART.marginTop + CHART.height + marginBottom + legendH;
  // Groups share the plot's width equally, so extra width (from the legend) centres them.
  const slotW = (width - marginLeft - CHART.marginRight) / Math.max(1, cells.length);
  const yMax = Math.max(1, ...run.results.map((r) => Math.max(r.opsPerSec, minMax(r)[1])));
  const ticks = niceTicks(yMax);
  const top = ticks[ticks.length - 1]!;
  const y = (v: number) => CHART.marginTop + CHART.height - (v / top) * CHART.height;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(`${run.command}: ops/s per cell and variant`)}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  // Axis and grid lines.
  for (const t of ticks) {
    const ty = y(t).toFixed(1);
    parts.push(`<line class="grid" stroke="#e5e5e5" x1="${marginLeft}" y1="${ty}" x2="${width - CHART.marginRight}" y2="${ty}"/>`);
    parts.push(`<text class="tick" x="${marginLeft - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${shortNum(t)}</text>`);
  }
  parts.push(`<text class="axis" transform="translate(14 ${CHART.marginTop + CHART.height / 2}) rotate(-90)" text-anchor="middle">ops/s</text>`);
  cells.forEach((cell, ci) => {
    const gx = marginLeft + ci * slotW + (slotW - groupW) / 2;
    parts.push(`<g class="cell" data-cell="${escapeXml(cell)}">`);
    variants.forEach((variant, vi) => {
      const r = run.results.find((x) => x.cell === cell && x.variant === variant);
      if (!r) return;
      const x = gx + vi * (CHART.barWidth + CHART.barGap);
      const by = y(r.opsPerSec);
      const [lo, hi] = minMax(r);
      const tip = `${variant} · ${cell}: ${Math.round(r.opsPerSec)} ops/s (median of ${r.repetitions.length}; min ${Math.round(lo)}, max ${Math.round(hi)})${r.errors > 0 ? `, ${r.errors} errors` : ""}`;
      parts.push(
        `<rect class="bar" data-cell="${escapeXml(cell)}" data-variant="${escapeXml(variant)}" x="${x.toFixed(1)}" y="${by.toFixed(1)}" width="${CHART.barWidth}" height="${(CHART.marginTop + CHART.height - by).toFixed(1)}" fill="${colorOf(variant)}"><title>${escapeXml(tip)}</title></rect>`,
      );
      if (r.repetitions.length > 1) {
        const cx = (x + CHART.barWidth / 2).toFixed(1);
        const x0 = (x + 3).toFixed(1);
        const x1 = (x + CHART.barWidth - 3).toFixed(1);
        parts.push(
          `<path class="err" stroke="#222" stroke-width="1.2" fill="none" d="M${cx} ${y(lo).toFixed(1)}V${y(hi).toFixed(1)}M${x0} ${y(lo).toFixed(1)}H${x1}M${x0} ${y(hi).toFixed(1)}H${x1}"/>`,
        );
      }
      if (r.errors > 0) {
        parts.push(
          `<text class="errmark" fill="#c00" font-weight="bold" x="${(x + CHART.barWidth / 2).toFixed(1)}" y="${(by - 4).toFixed(1)}" text-anchor="middle">!</text>`,
        );
      }
    });
    const lx = gx + groupW / 2;
    const ly = CHART.marginTop + CHART.height + 12;
    parts.push(`<text class="label" transform="translate(${lx.toFixed(1)} ${ly}) rotate(-30)" text-anchor="end">${escapeXml(cell)}</text>`);
    parts.push(`</g>`);
  });
  parts.push(`<line class="axisline" stroke="#999" x1="${marginLeft}" y1="${y(0)}" x2="${width - CHART.marginRight}" y2="${y(0)}"/>`);
  // Legend along the bottom, wrapped into rows that fit the chart.
  const legendTop = height - legendH + LEGEND_ROW_H / 2;
  for (const { variant: v, x, row } of legend.items) {
    const lx = marginLeft + x;
    const ly = legendTop + row * LEGEND_ROW_H;
    parts.push(`<rect class="swatch" x="${lx}" y="${ly - 6}" width="12" height="12" fill="${colorOf(v)}"/>`);
    parts.push(`<text class="legend" x="${lx + 16}" y="${ly}" dominant-baseline="middle">${escapeXml(v)}</text>`);
  }
  parts.push(`</svg>`);
  return parts.join("\n");
}

/** Colours by order of first appearance: the same variant keeps its colour across charts. */
export function paletteFor(): (variant: string) => string {
  const colors = new Map<string, string>();
  return (v: string) => {
    let c = colors.get(v);
    if (!c) {
      c = PALETTE[colors.size % PALETTE.length]!;
      colors.set(v, c);
    }
    return c;
  };
}

/** One run's chart as a standalone .svg file (for a README or an issue). */
export function renderStandaloneSvg(run: RunResult): string {
  return `${renderChartSvg(run, paletteFor()).replace("<svg ", '<svg style="background:#fff" ')}\n`;
}

function htmlTable(rows: Rows): string {
  const head = rows.head.map((h) => `<th>${escapeXml(h)}</th>`).join("");
  const body = rows.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeXml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; border-bottom: 1px solid #ddd; }
.context { color: #555; } .chartbox { overflow-x: auto; }
table { border-collapse: collapse; margin: 1rem 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: .25rem .6rem; text-align: right; } th { background: #f5f5f5; }
td:first-child, th:first-child { text-align: left; }
pre { background: #f5f5f5; padding: .6rem; overflow-x: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
svg .grid { stroke: #e5e5e5; } svg .axisline { stroke: #999; }
svg .err { stroke: #222; stroke-width: 1.2; fill: none; } svg .errmark { fill: #c00; font-weight: bold; }
`;

/** The whole HTML page for `runs` (each with the file it came from, for the heading). */
export function renderHtmlReport(runs: Array<{ run: RunResult; source?: string }>, opts: { title?: string; baseline?: string } = {}): string {
  const colorOf = paletteFor();
  const title = opts.title ?? `uring-bench report: ${runs.map((r) => r.run.command).join(", ")}`;
  const sections = runs.map(({ run, source }) => {
    const argv = run.context.argv.join(" ");
    return [
      `<section class="run">`,
      `<h2>${escapeXml(run.command)}${source ? ` <small>(${escapeXml(source)})</small>` : ""}</h2>`,
      `<p class="context">${escapeXml(contextLine(run))}</p>`,
      `<div class="chartbox">`,
      renderChartSvg(run, colorOf),
      `</div>`,
      `<p>Bars: median ops/s over repetitions; whiskers: lowest and highest repetition.</p>`,
      htmlTable(gridRows(run)),
      htmlTable(detailRows(run, opts.baseline)),
      `<pre>${escapeXml(argv)}</pre>`,
      `</section>`,
    ].join("\n");
  });
  return [
    `<!DOCTYPE html>`,
    `<html lang="en">`,
    `<head>`,
    `<meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeXml(title)}</title>`,
    `<style>${CSS}</style>`,
    `</head>`,
    `<body>`,
    `<h1>${escapeXml(title)}</h1>`,
    ...sections,
    `</body>`,
    `</html>`,
    ``,
  ].join("\n");
}
