// Reads a V8 .heapsnapshot (taken with --heapsnapshot-signal, which also forces a full GC) into
// per-constructor counts and sizes, and measures what each DeviceSession alone holds: the
// session object plus everything reachable from it that nothing outside it retains (its maps,
// arrays, outbox, logger, closures). That is "Parley's own state per session".
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[]; node_types: [string[]]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface HeapSummary {
  totalBytes: number;
  /** Constructor name → [count, self bytes]. */
  byConstructor: Map<string, [number, number]>;
  deviceSessions: number;
  /** Mean bytes held only by one DeviceSession. */
  ownedPerSession: number;
}

export function summarizeHeap(file: string): HeapSummary {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields.length;
  const ef = meta.edge_fields.length;
  const nameAt = meta.node_fields.indexOf("name");
  const selfAt = meta.node_fields.indexOf("self_size");
  const edgeCountAt = meta.node_fields.indexOf("edge_count");
  const typeAt = meta.node_fields.indexOf("type");
  const edgeTypeAt = meta.edge_fields.indexOf("type");
  const toAt = meta.edge_fields.indexOf("to_node");
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const weak = edgeTypes.indexOf("weak");
  const shortcut = edgeTypes.indexOf("shortcut");
  const count = snap.nodes.length / nf;

  const firstEdge = new Uint32Array(count + 1);
  for (let i = 0, e = 0; i < count; i++) {
    firstEdge[i] = e;
    e += (snap.nodes[i * nf + edgeCountAt] as number) * ef;
    firstEdge[i + 1] = e;
  }
  const strong = (e: number) => snap.edges[e + edgeTypeAt] !== weak && snap.edges[e + edgeTypeAt] !== shortcut;
  const retainers = new Uint32Array(count);
  for (let e = 0; e < snap.edges.length; e += ef) {
    if (!strong(e)) continue;
    const to = (snap.edges[e + toAt] as number) / nf;
    retainers[to] = (retainers[to] as number) + 1;
  }

  const byConstructor = new Map<string, [number, number]>();
  let totalBytes = 0;
  const sessions: number[] = [];
  for (let i = 0; i < count; i++) {
    const type = nodeTypes[snap.nodes[i * nf + typeAt] as number];
    const name =
      type === "object" || type === "closure" ? (snap.strings[snap.nodes[i * nf + nameAt] as number] as string) : `(${type})`;
    const size = snap.nodes[i * nf + selfAt] as number;
    totalBytes += size;
    const entry = byConstructor.get(name) ?? [0, 0];
    byConstructor.set(name, entry);
    entry[0]++;
    entry[1] += size;
    if (name === "DeviceSession" && type === "object") sessions.push(i);
  }

  // Owned = the session plus nodes whose every retainer is already owned (one pass in BFS order).
  let owned = 0;
  for (const root of sessions) {
    const inside = new Map<number, number>([[root, 0]]);
    const queue = [root];
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q] as number;
      owned += snap.nodes[node * nf + selfAt] as number;
      for (let e = firstEdge[node] as number; e < (firstEdge[node + 1] as number); e += ef) {
        if (!strong(e)) continue;
        const child = (snap.edges[e + toAt] as number) / nf;
        if (child === root) continue;
        const seen = (inside.get(child) ?? 0) + 1;
        inside.set(child, seen);
        if (seen === retainers[child]) queue.push(child);
      }
    }
  }
  return {
    totalBytes,
    byConstructor,
    deviceSessions: sessions.length,
    ownedPerSession: sessions.length ? owned / sessions.length : 0,
  };
}

/** Per-session growth by constructor between two snapshots: [name, objects per session, bytes per session]. */
export function perSessionGrowth(
  before: HeapSummary,
  after: HeapSummary,
  sessions: number,
  top = 15,
): [string, number, number][] {
  const rows: [string, number, number][] = [];
  for (const [name, [n, bytes]] of after.byConstructor) {
    const [n0, bytes0] = before.byConstructor.get(name) ?? [0, 0];
    rows.push([name, Math.round(((n - n0) / sessions) * 100) / 100, Math.round((bytes - bytes0) / sessions)]);
  }
  return rows.sort((a, b) => b[2] - a[2]).slice(0, top);
}
