// The machine a run happened on, recorded with every result.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, release, totalmem, type } from "node:os";
import type { Machine } from "../report/results.ts";

const read = (path: string) => {
  try {
    return readFileSync(path, "utf8").trim().replace(/\s+/g, "–");
  } catch {
    return "unknown";
  }
};

export function describeMachine(): Machine {
  let openFiles = "unknown";
  try {
    openFiles = execFileSync("bash", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
  } catch {
    // Reported as unknown.
  }
  return {
    cpuModel: cpus()[0]?.model ?? "unknown",
    cores: availableParallelism(),
    ramBytes: totalmem(),
    node: process.version,
    kernel: release(),
    os: type(),
    openFilesLimit: openFiles,
    ephemeralPorts: read("/proc/sys/net/ipv4/ip_local_port_range"),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}
