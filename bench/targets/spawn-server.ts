// Starts a server process (`node [flags] <entry>`) that logs one JSON object per line, as every
// Parley process does, and resolves once it logs "parley listening". The log is read line by
// line and only handed on when it matters (sign-in codes, warnings), so a busy server's log costs
// the bench little.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { track } from "../core/processes.ts";
import { progress } from "../core/progress.ts";

export const repoRoot = new URL("../../", import.meta.url).pathname;

let root = repoRoot;
/** The checkout the servers run from (the working tree, or an export of a revision: server-dir.ts). */
export const serverRoot = () => root;
export function setServerRoot(dir: string): void {
  root = dir.endsWith("/") ? dir : `${dir}/`;
}

export interface SpawnedServer {
  child: ChildProcess;
  listening: Record<string, unknown>;
  exited: Promise<number | string>;
}

export async function spawnServer(options: {
  name: string;
  entry: string;
  env: Record<string, string>;
  nodeFlags?: string[];
  /** Called for lines that contain one of these substrings (cheap filter before JSON.parse). */
  watch?: { contains: string; onLine: (entry: Record<string, unknown>) => void }[];
}): Promise<SpawnedServer> {
  const child = spawn(`${root}node_modules/.bin/node`, [...(options.nodeFlags ?? []), options.entry], {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  track(child, options.name);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code ?? -1)));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // Server warnings and errors are shown while they happen, the first three of each kind.
  const seen = new Map<string, number>();
  const listening = await new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      if (line.includes('"parley listening"')) resolve(JSON.parse(line));
      for (const watch of options.watch ?? []) if (line.includes(watch.contains)) watch.onLine(JSON.parse(line));
      if (line.includes('"level":"error"') || line.includes('"level":"warn"')) {
        const kind = /"msg":"([^"]*)"/.exec(line)?.[1] ?? "?";
        const count = (seen.get(kind) ?? 0) + 1;
        seen.set(kind, count);
        if (count <= 3) progress("server-log", { server: options.name, line: line.slice(0, 300) });
        else if (count === 4) progress("server-log", { server: options.name, note: `more "${kind}" lines are not shown` });
      }
    });
    exited.then((code) => reject(new Error(`${options.name} exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, listening, exited };
}
