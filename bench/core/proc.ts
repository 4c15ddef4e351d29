// CPU and memory of other processes, read from /proc (the server is not our process, so
// process.cpuUsage() cannot see it): utime+stime of /proc/<pid>/stat (all threads, in clock
// ticks) and VmRSS of /proc/<pid>/status. Reading /proc costs the measured process nothing.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcSample {
  /** CPU seconds used so far (user + system). */
  cpuSeconds: number;
  rssBytes: number;
}

/** undefined when the process is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuSeconds: ticks / clockTicks(), rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine (/proc/stat), to see what else is running. */
export function sampleMachine(): { busySeconds: number; totalSeconds: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.reduce((a, b) => a + b, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busySeconds: (total - idle) / clockTicks(), totalSeconds: total / clockTicks() };
}
