// Charts of a run as SVG files, drawn by the harness with vega-lite (compiled) and vega (rendered
// headless): latency percentiles against offered rate, fanout latency against offered copies,
// memory per session against sessions.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vega from "vega";
import type { TopLevelSpec } from "vega-lite";
import * as vl from "vega-lite";
import type { RunResult, ScenarioResult } from "./results.ts";

type Row = Record<string, string | number>;

async function render(spec: TopLevelSpec): Promise<string> {
  return new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" }).toSVG();
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** Latency percentiles of each step, one row per (series, percentile). */
function latencyRows(results: ScenarioResult[], x: (r: ScenarioResult, s: ScenarioResult["steps"][number]) => number): Row[] {
  // A step run twice (a retry) is drawn once, with its last attempt.
  const rows = new Map<string, Row>();
  for (const r of results) {
    const series = `${r.system}${r.transport ? ` ${r.transport}` : ""}${r.id.startsWith("group-") ? ` ${r.id.slice(6)}` : ""}`;
    for (const step of r.steps) {
      for (const p of ["p50 ms", "p99 ms", "p99.9 ms"]) {
        const y = num(step[p]);
        const row = { series, percentile: p.replace(" ms", ""), x: x(r, step), ms: y ?? 0 };
        if (y !== undefined && y > 0 && step.note !== "half of the highest sustained rate")
          rows.set(`${series}|${row.percentile}|${row.x}`, row);
      }
    }
  }
  return [...rows.values()];
}

/** Horizontal target lines with their labels, drawn over a chart. */
function rules(lines: { y: number; label: string }[], title: string): object[] {
  const y = { field: "y", type: "quantitative", title };
  return [
    { data: { values: lines }, mark: { type: "rule", color: "#b22", strokeDash: [2, 2] }, encoding: { y } },
    {
      data: { values: lines },
      mark: { type: "text", align: "left", dx: 4, dy: -6, color: "#b22", fontSize: 10 },
      encoding: { y, x: { value: 0 }, text: { field: "label" } },
    },
  ];
}

const legend = { labelLimit: 320 };
/** Dashed series are told apart by line style, so their legend shows lines, not dots. */
const dashes = {
  symbolType: "stroke",
  symbolStrokeWidth: 2,
  encode: { symbols: { update: { stroke: { value: "#333" } } } },
};

function latencySpec(title: string, xTitle: string, rows: Row[], targets: { y: number; label: string }[]): TopLevelSpec {
  const y = "send → receive latency (ms)";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title,
    width: 560,
    height: 320,
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "x", type: "quantitative", title: xTitle, scale: { type: "log" } },
          y: { field: "ms", type: "quantitative", title: y, scale: { type: "log" } },
          color: { field: "series", type: "nominal", title: "system", legend },
          strokeDash: { field: "percentile", type: "nominal", title: "percentile", legend: dashes },
        },
      },
      ...rules(targets, y),
    ],
  } as TopLevelSpec;
}

function memorySpec(rows: Row[]): TopLevelSpec {
  const y = "KB per session";
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "Server memory per idle session",
    width: 560,
    height: 300,
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "sessions", type: "quantitative", title: "idle sessions" },
          y: { field: "KB", type: "quantitative", title: y },
          color: { field: "transport", type: "nominal", legend },
          strokeDash: { field: "measure", type: "nominal", legend: dashes },
        },
      },
      ...rules(
        [
          { y: 30, label: "target: 30 KB RSS per gRPC session" },
          { y: 10, label: "target: 10 KB RSS per WebSocket session" },
        ],
        y,
      ),
    ],
  } as TopLevelSpec;
}

/** Writes the charts that have data and returns their file names (relative to dir). */
export async function writeCharts(run: RunResult, dir: string): Promise<Record<string, string>> {
  mkdirSync(dir, { recursive: true });
  const written: Record<string, string> = {};
  const save = async (name: string, spec: TopLevelSpec) => {
    writeFileSync(join(dir, name), await render(spec));
    written[name.replace(/\.svg$/, "")] = name;
  };
  const oneToOne = run.scenarios.filter((s) => s.id === "one-to-one" && s.steps.length > 0);
  const rows1 = latencyRows(oneToOne, (_r, s) => Number(s["offered msgs/s"]));
  const slo = { y: 50, label: "p99 ≤ 50 ms (sustained)" };
  if (rows1.length) {
    const lines = [slo, { y: 25, label: "p99 ≤ 25 ms at half the rate" }];
    await save(
      "one-to-one-latency.svg",
      latencySpec("1:1 chat: latency against offered rate", "offered messages/s", rows1, lines),
    );
  }

  const groups = run.scenarios.filter((s) => /^group-\d+$/.test(s.id) && s.steps.length > 0);
  const rows2 = latencyRows(groups, (r, s) => Number(s["offered msgs/s"]) * (Number(r.id.slice(6)) - 1)).filter(
    (row) => row.percentile !== "p50",
  );
  if (rows2.length) {
    const lines = [slo, { y: 25, label: "last member p99 ≤ 25 ms" }];
    await save(
      "group-latency.svg",
      latencySpec("Group fanout: latency against offered copies", "offered copies/s", rows2, lines),
    );
  }

  const idle = run.scenarios.filter((s) => s.id === "idle-sessions");
  const rows3: Row[] = [];
  for (const r of idle) {
    for (const step of r.steps) {
      const sessions = num(step.sessions);
      if (sessions === undefined) continue;
      const rss = num(step["RSS per session KB"]);
      const heap = num(step["heap per session KB"]);
      if (rss !== undefined) rows3.push({ transport: r.transport ?? "", measure: "RSS", sessions, KB: rss });
      if (heap !== undefined) rows3.push({ transport: r.transport ?? "", measure: "JS heap", sessions, KB: heap });
    }
  }
  if (rows3.length) await save("idle-memory.svg", memorySpec(rows3));
  return written;
}
