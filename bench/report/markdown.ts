// Small Markdown helpers for the generated report.
import type { Figure, Step } from "./results.ts";

export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cell = (v: string | number | null | undefined) =>
    v === null || v === undefined || v === "" ? "–" : String(v).replace(/\|/g, "\\|");
  return [
    `| ${headers.join(" | ")} |`,
    `|${headers.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

/** All steps of a result as one table, columns in first-seen order, empty columns dropped. */
export function stepsTable(steps: Step[]): string {
  const columns: string[] = [];
  for (const step of steps) for (const key of Object.keys(step)) if (!columns.includes(key)) columns.push(key);
  const used = columns.filter((c) => steps.some((s) => s[c] !== null && s[c] !== undefined));
  return table(
    used,
    steps.map((s) => used.map((c) => s[c])),
  );
}

export function formatValue(value: number | null, unit: string): string {
  if (value === null) return "–";
  const abs = Math.abs(value);
  const text = abs >= 100 ? Math.round(value).toLocaleString("en-US") : abs >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text} ${unit}`;
}

/** "met (margin …)" or "missed by … (…× the target)". */
export function verdictText(f: Figure): string {
  if (f.missing) return f.target ? `❌ not reached: ${f.missing}` : `not reached: ${f.missing}`;
  if (!f.target) return "";
  if (!f.verdict) return f.note ? `not measured: ${f.note}` : "not measured";
  const margin = formatValue(Math.abs(f.verdict.margin), f.unit);
  if (f.verdict.met) return f.verdict.margin === 0 ? "✅ met" : `✅ met (margin ${margin})`;
  const ratio = f.verdict.ratio;
  const times =
    f.target.op === "<=" ? `${ratio.toFixed(ratio < 10 ? 2 : 1)}× the limit` : `${(ratio * 100).toFixed(1)}% of the target`;
  return `❌ missed by ${margin} (${times})`;
}
