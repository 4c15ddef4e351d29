// Smoke check for scripts/engines/engines.sh (`engines.sh smoke`):
//   node scripts/engines/smoke.ts cassandra PORT   keyspace, table, write and read back over CQL, drop
//   node scripts/engines/smoke.ts kafka PORT       topic, produce one message, consume it in a group,
//                                                  commit its offset and read the commit back, delete
import process from "node:process";
import cassandra from "cassandra-driver";
import kafkajs from "kafkajs";

const [engine, portArg] = process.argv.slice(2);
const port = Number(portArg);
const suffix = `${Date.now()}_${process.pid}`;

function ms(start: number): string {
  return `${Date.now() - start} ms`;
}

async function smokeCassandra(): Promise<void> {
  const client = new cassandra.Client({
    contactPoints: ["127.0.0.1"],
    protocolOptions: { port },
    localDataCenter: "datacenter1",
  });
  const ks = `parley_smoke_${suffix}`;
  try {
    let t = Date.now();
    await client.connect();
    const version = (await client.execute("SELECT release_version FROM system.local")).first()?.get("release_version");
    console.log(`connected, release_version ${String(version)} (${ms(t)})`);
    t = Date.now();
    await client.execute(`CREATE KEYSPACE ${ks} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`);
    await client.execute(`CREATE TABLE ${ks}.t (id int PRIMARY KEY, v text)`);
    console.log(`created keyspace and table (${ms(t)})`);
    t = Date.now();
    await client.execute(`INSERT INTO ${ks}.t (id, v) VALUES (?, ?)`, [1, "hello"], { prepare: true });
    const v = (await client.execute(`SELECT v FROM ${ks}.t WHERE id = ?`, [1], { prepare: true })).first()?.get("v");
    if (v !== "hello") throw new Error(`read back ${String(v)} instead of hello`);
    console.log(`wrote and read back a row (${ms(t)})`);
    t = Date.now();
    await client.execute(`DROP KEYSPACE ${ks}`);
    console.log(`dropped keyspace (${ms(t)})`);
  } finally {
    await client.shutdown();
  }
}

async function smokeKafka(): Promise<void> {
  const kafka = new kafkajs.Kafka({
    clientId: "parley-engines-smoke",
    brokers: [`127.0.0.1:${port}`],
    logLevel: kafkajs.logLevel.WARN,
  });
  const topic = `parley-smoke-${suffix}`;
  const groupId = `parley-smoke-${suffix}`;
  const admin = kafka.admin();
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId });
  await admin.connect();
  try {
    let t = Date.now();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    console.log(`created topic ${topic} (${ms(t)})`);

    t = Date.now();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: "k", value: "hello" }] });
    await producer.disconnect();
    console.log(`produced one message (${ms(t)})`);

    t = Date.now();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const got = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no message consumed within 60 s")), 60_000);
      void consumer.run({
        autoCommit: false,
        eachMessage: async ({ topic: tp, partition, message }) => {
          await consumer.commitOffsets([{ topic: tp, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
          clearTimeout(timer);
          resolve(message.value?.toString() ?? "");
        },
      });
    });
    const value = await got;
    if (value !== "hello") throw new Error(`consumed ${value} instead of hello`);
    console.log(`consumed it in group ${groupId} and committed its offset (${ms(t)})`);

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions[0]?.offset;
    if (committed !== "1") throw new Error(`committed offset reads back as ${String(committed)}, expected 1`);
    console.log("committed offset reads back as 1");
    await consumer.disconnect();

    t = Date.now();
    await admin.deleteGroups([groupId]);
    await admin.deleteTopics({ topics: [topic] });
    console.log(`deleted group and topic (${ms(t)})`);
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.disconnect();
  }
}

if (!Number.isInteger(port) || (engine !== "cassandra" && engine !== "kafka")) {
  console.error("usage: smoke.ts cassandra|kafka PORT");
  process.exit(2);
}
try {
  await (engine === "cassandra" ? smokeCassandra() : smokeKafka());
  console.log("ok");
} catch (err) {
  console.error(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
}
