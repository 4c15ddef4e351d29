// Conversations, members, the event log and receipts on Cassandra (schema in
// services/storage/cassandra/migrations/002-messaging.cql; design and proof in docs/cassandra.md).
export { CassandraConversationStore } from "./cassandra/conversations.ts";
export { CassandraEventLog } from "./cassandra/event-log.ts";
export { CassandraGroupRetention, CassandraInviteLinkStore, CassandraJoinRequestStore } from "./cassandra/groups.ts";
export { CassandraReceiptStore } from "./cassandra/receipts.ts";
