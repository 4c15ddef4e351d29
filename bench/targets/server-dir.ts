// Which code the servers run: the working tree by default, or with --server-rev <rev> an export of
// that commit (git archive into bench/.cache/server/<sha>, node_modules linked), so a run measures
// one known commit even while the working tree is being edited. The load side always runs from
// the working tree (the protocol is the same).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { progress } from "../core/progress.ts";
import { repoRoot } from "./spawn-server.ts";

const git = (...args: string[]) => execFileSync("git", args, { cwd: repoRoot, encoding: "utf8" }).trim();

export interface ServerCode {
  dir: string;
  commit: string;
  /** True when the working tree differs from the commit (only for the working tree). */
  dirty: boolean;
}

export function serverCode(rev: string | undefined): ServerCode {
  if (!rev) {
    return {
      dir: repoRoot,
      commit: git("rev-parse", "HEAD"),
      dirty: git("status", "--porcelain", "--", "services", "gen") !== "",
    };
  }
  const commit = git("rev-parse", `${rev}^{commit}`);
  const dir = join(repoRoot, "bench/.cache/server", commit);
  if (!existsSync(join(dir, "services"))) {
    progress("export-server", { rev, commit, dir });
    mkdirSync(dir, { recursive: true });
    execFileSync("bash", ["-c", `git archive ${commit} | tar -x -C "${dir}"`], { cwd: repoRoot });
    symlinkSync(join(repoRoot, "node_modules"), join(dir, "node_modules"));
  }
  return { dir, commit, dirty: false };
}
