// The shape of bench/results/<timestamp>.json. Every number is a Figure with its unit; figures
// with a target from issue 5 carry the comparison (met, or missed by how much).
import type { CpuSummary } from "./cpuprofile.ts";

export interface TargetSpec {
  /** "<=": the value must not exceed the target; ">=": it must reach it. */
  op: "<=" | ">=";
  value: number;
  unit: string;
  /** The target as the issue words it. */
  text: string;
}

export interface Verdict {
  met: boolean;
  /** How far from the target, in the figure's unit (positive = margin, negative = missed by). */
  margin: number;
  /** value / target. */
  ratio: number;
}

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  target?: TargetSpec;
  verdict?: Verdict;
  note?: string;
  /** Why there is no value although the scenario ran (the target then counts as missed). */
  missing?: string;
}

/** One step of offered load (or one level of sessions). Values in the units named by the key. */
export type Step = Record<string, number | string | null>;

export interface ProfileSummary extends CpuSummary {
  /** The server it profiles (the scenario's server name, or a cluster process). */
  name: string;
  file: string;
}

export interface ScenarioResult {
  id: string;
  title: string;
  system: string;
  transport?: string;
  figures: Figure[];
  steps: Step[];
  notes: string[];
  skipped?: string;
  error?: string;
  durationSeconds: number;
}

export interface Machine {
  cpuModel: string;
  cores: number;
  ramBytes: number;
  node: string;
  kernel: string;
  os: string;
  openFilesLimit: string;
  ephemeralPorts: string;
  loadAverageAtStart: number[];
}

export interface RunResult {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  mode: "quick" | "full";
  /** Free text, e.g. "development run on a busy machine". */
  label: string;
  machine: Machine;
  server: { commit: string; dirty: boolean; codeDir: string };
  options: Record<string, string | number | boolean>;
  /** Mean CPU (cores) used by other processes during measurements; high values mean noisy figures. */
  backgroundCores: number;
  scenarios: ScenarioResult[];
  /** Where each profiled server spent its CPU (--cpu-prof). */
  profiles: ProfileSummary[];
}

export function judge(value: number | null, target: TargetSpec): Verdict | undefined {
  if (value === null || !Number.isFinite(value)) return undefined;
  const met = target.op === "<=" ? value <= target.value : value >= target.value;
  const margin = target.op === "<=" ? target.value - value : value - target.value;
  return { met, margin, ratio: target.value === 0 ? Number.NaN : value / target.value };
}

export function figure(name: string, value: number | null, unit: string, target?: TargetSpec, note?: string): Figure {
  const f: Figure = { name, value, unit };
  if (target) {
    f.target = target;
    const verdict = judge(value, target);
    if (verdict) f.verdict = verdict;
  }
  if (note) f.note = note;
  return f;
}

/** A figure the run could not produce because the system never got there (a missed target). */
export function notReached(name: string, unit: string, target: TargetSpec | undefined, why: string): Figure {
  const f: Figure = { name, value: null, unit, missing: why };
  if (target) {
    f.target = target;
    f.verdict = { met: false, margin: Number.NaN, ratio: Number.NaN };
  }
  return f;
}
