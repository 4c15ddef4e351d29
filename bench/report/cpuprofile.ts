// Where a process spent its CPU, from a V8 .cpuprofile (node --cpu-prof): self time per function
// (the time of samples whose top frame is that function) and per area (a Parley directory, a
// package, Node's internals), and Parley's own functions by inclusive time (samples with the
// function anywhere on the stack), as milliseconds and shares of the busy (non-idle) time.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  where: string;
  ms: number;
  /** Share of busy time (idle excluded), percent. */
  percent: number;
}

export interface CpuSummary {
  busyMs: number;
  idleMs: number;
  functions: SelfTime[];
  areas: SelfTime[];
  /** Parley's own functions (services/) by inclusive time: the function and what it calls. */
  parley: SelfTime[];
}

const repo = new URL("../../", import.meta.url).href;

/** A short place name: repo-relative path, package name, or node:internal module. */
function place(url: string): string {
  if (url === "") return "(native)";
  const relative = url.startsWith(repo) ? url.slice(repo.length) : url.replace(/^file:\/\//, "");
  // Servers run from an export of a commit (--server-rev) read as the repository's own paths.
  return relative.replace(/^bench\/\.cache\/server\/[0-9a-f]+\//, "");
}

/** The area a place belongs to: services/<svc>, a package in node_modules, or node:<module>. */
function area(where: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (pkg) return pkg[1] as string;
  const service = /^(services|gen|clients|bench)\/[^/]+/.exec(where);
  if (service) return service[0];
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(where);
  if (internal) return `node:${internal[1]}`;
  return where;
}

export function summarizeProfile(file: string, top = 25): CpuSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfByNode = new Map<number, number>();
  for (const [i, id] of profile.samples.entries()) selfByNode.set(id, (selfByNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  const functions = new Map<string, SelfTime>();
  const areas = new Map<string, SelfTime>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfByNode) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const name = frame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const where = place(frame.url);
    const key = `${name}|${where}|${frame.lineNumber}`;
    const f = functions.get(key) ?? {
      name,
      where: where === "(native)" ? where : `${where}:${frame.lineNumber + 1}`,
      ms: 0,
      percent: 0,
    };
    f.ms += us / 1000;
    functions.set(key, f);
    const areaName = where === "(native)" ? name : area(where);
    const a = areas.get(areaName) ?? { name: areaName, where: "", ms: 0, percent: 0 };
    a.ms += us / 1000;
    areas.set(areaName, a);
  }
  const finish = (list: SelfTime[]) =>
    list
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((s) => ({ ...s, ms: Math.round(s.ms), percent: Math.round((s.ms / (busyUs / 1000)) * 1000) / 10 }));
  return {
    busyMs: Math.round(busyUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    functions: finish([...functions.values()]),
    areas: finish([...areas.values()]),
    parley: finish(inclusiveParley(profile, byId, selfByNode)),
  };
}

/** Inclusive time of functions in services/, each counted once per stack (recursion is not double-counted). */
function inclusiveParley(profile: CpuProfile, byId: Map<number, ProfileNode>, selfByNode: Map<number, number>): SelfTime[] {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const totals = new Map<string, SelfTime>();
  for (const [leaf, us] of selfByNode) {
    if ((byId.get(leaf) as ProfileNode).callFrame.functionName === "(idle)") continue;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      const where = place(frame.url);
      if (!where.startsWith("services/")) continue;
      const name = frame.functionName || "(anonymous)";
      const key = `${name}|${where}|${frame.lineNumber}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = totals.get(key) ?? { name, where: `${where}:${frame.lineNumber + 1}`, ms: 0, percent: 0 };
      entry.ms += us / 1000;
      totals.set(key, entry);
    }
  }
  return [...totals.values()];
}
