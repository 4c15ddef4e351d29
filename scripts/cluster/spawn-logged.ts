// Starts one Parley process (`node [flags] <entry>`) and reads its structured log: every line is kept,
// and the start resolves with the "parley listening" entry (or fails with the stderr tail).
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

export type LogEntry = Record<string, unknown>;

export interface LoggedProcess {
  child: ChildProcess;
  /** The "parley listening" entry (port, url, metricsPort). */
  listening: LogEntry;
  logs: LogEntry[];
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
}

const root = new URL("../../", import.meta.url).pathname;

export async function spawnLogged(
  entry: string,
  env: Record<string, string>,
  options: { onLog?: (entry: LogEntry) => void; supervised?: boolean; nodeFlags?: readonly string[] } = {},
): Promise<LoggedProcess> {
  const child = spawn(process.execPath, [...(options.nodeFlags ?? []), entry], {
    cwd: root,
    env: { ...process.env, ...env },
    // A supervised child keeps stdin open and leaves when it closes (see services/runtime/lifecycle.ts).
    stdio: [options.supervised ? "pipe" : "ignore", "pipe", "pipe"],
  });
  const logs: LogEntry[] = [];
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code ?? -1)));
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const listening = await new Promise<LogEntry>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      let parsed: LogEntry;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(parsed);
      options.onLog?.(parsed);
      if (parsed.msg === "parley listening") resolve(parsed);
    });
    exited.then((code) => reject(new Error(`${entry} exited (${code}) before listening:\n${stderr}`)));
  });
  return { child, listening, logs, exited };
}
