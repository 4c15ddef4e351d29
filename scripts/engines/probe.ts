// Readiness probe for scripts/engines/engines.sh:
//   node scripts/engines/probe.ts cassandra|kafka PORT DEADLINE_SECONDS [PID]
// Polls until the engine answers (Cassandra: `SELECT release_version FROM system.local` over CQL;
// Kafka: an admin client lists topics), printing a progress line every 5 s. Exits 1 when the deadline
// passes or when PID (the engine's process) exits first.
import { readFileSync } from "node:fs";
import process from "node:process";
import { setTimeout as sleep } from "node:timers/promises";
import cassandra from "cassandra-driver";
import kafkajs from "kafkajs";

const [engine, portArg, deadlineArg, pidArg] = process.argv.slice(2);
const port = Number(portArg);
const deadlineMs = Number(deadlineArg ?? "120") * 1000;
const pid = pidArg ? Number(pidArg) : undefined;

if ((engine !== "cassandra" && engine !== "kafka") || !Number.isInteger(port) || !(deadlineMs > 0)) {
  console.error("usage: probe.ts cassandra|kafka PORT DEADLINE_SECONDS [PID]");
  process.exit(2);
}

// Alive and not a zombie (an exited daemon can stay a zombie for a while when its parent reaps late).
function alive(p: number): boolean {
  try {
    process.kill(p, 0);
  } catch {
    return false;
  }
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${p}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function cassandraOnce(): Promise<string> {
  const client = new cassandra.Client({
    contactPoints: ["127.0.0.1"],
    protocolOptions: { port },
    localDataCenter: "datacenter1",
    socketOptions: { connectTimeout: 3000, readTimeout: 5000 },
  });
  try {
    await client.connect();
    const rs = await client.execute("SELECT release_version FROM system.local");
    return `Cassandra ${String(rs.first()?.get("release_version"))}`;
  } finally {
    await client.shutdown();
  }
}

async function kafkaOnce(): Promise<string> {
  const kafka = new kafkajs.Kafka({
    clientId: "parley-engines-probe",
    brokers: [`127.0.0.1:${port}`],
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    const topics = await admin.listTopics();
    // Looking up a group's coordinator makes a fresh broker create __consumer_offsets; until that topic
    // is created and loaded, FindCoordinator answers COORDINATOR_NOT_AVAILABLE (kafkajs logs an ERROR and
    // retries). Doing it here means the first consumer group of a test finds its coordinator at once.
    await admin.describeGroups(["parley-engines-probe"]);
    return `Kafka cluster ${cluster.clusterId}, controller ${cluster.controller}, ${topics.length} topic(s), group coordinator ready`;
  } finally {
    await admin.disconnect();
  }
}

const what = engine === "cassandra" ? `CQL on 127.0.0.1:${port}` : `Kafka on 127.0.0.1:${port}`;
const once = engine === "cassandra" ? cassandraOnce : kafkaOnce;
const start = Date.now();
let lastReport = 0;
let lastError = "";

for (;;) {
  try {
    const answer = await once();
    console.log(`ready after ${Math.round((Date.now() - start) / 1000)}s: ${answer}`);
    process.exit(0);
  } catch (err) {
    lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const elapsed = Date.now() - start;
  if (pid !== undefined && !alive(pid)) {
    console.log(`process ${pid} exited while waiting for ${what} (last error: ${lastError})`);
    process.exit(1);
  }
  if (elapsed >= deadlineMs) {
    console.log(`not ready after ${deadlineMs / 1000}s waiting for ${what} (last error: ${lastError})`);
    process.exit(1);
  }
  if (elapsed - lastReport >= 5000) {
    lastReport = elapsed;
    console.log(`waiting for ${what}: ${Math.round(elapsed / 1000)}s`);
  }
  await sleep(1000);
}
