// `npm run cluster`: starts the engines (installing them if needed), prepares schema and topics,
// then runs 1 identity, 1 messaging, 2 gateways, 2 fanout workers and 1 push process until Ctrl-C.
import { execFileSync } from "node:child_process";
import { startCluster } from "./launcher.ts";

const root = new URL("../../", import.meta.url).pathname;
const step = (what: string, command: string, args: string[]) => {
  console.log(`==> ${what}`);
  execFileSync(command, args, { cwd: root, stdio: "inherit" });
};

step("engines", "bash", ["scripts/engines/engines.sh", "up"]);
step("cassandra schema", "npm", ["run", "-s", "cassandra:migrate"]);
step("kafka topics", "npm", ["run", "-s", "kafka:topics"]);

const verbose = process.argv.includes("--logs");
const cluster = await startCluster({
  messaging: Number(process.env.PARLEY_CLUSTER_MESSAGING ?? 1),
  gateways: 2,
  fanout: 2,
  push: 1,
  onLog: (name, entry) => {
    if (verbose || entry.level === "warn" || entry.level === "error" || entry.msg === "dev mode: sign-in code") {
      console.log(`${name.padEnd(12)} ${JSON.stringify(entry)}`);
    }
  },
});
console.log("\nParley cluster is up:");
for (const p of cluster.processes.values()) console.log(`  ${p.name.padEnd(12)} ${p.url}  (metrics :${p.metricsPort})`);
console.log(
  `\nPARLEY_TOKEN_SECRET=${cluster.env.PARLEY_TOKEN_SECRET}\nCtrl-C stops the services (the engines stay up: npm run engines:down).`,
);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log("\nstopping the cluster...");
    cluster.stop().then(() => process.exit(0));
  });
}
