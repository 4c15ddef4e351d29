// Runs the messaging port contracts against every registered messaging adapter.
import { conversationStoreContract, eventLogContract, receiptStoreContract } from "./messaging.contract.ts";
import { messagingAdapters } from "./registry.ts";

for (const { name, make, options } of messagingAdapters) {
  conversationStoreContract(name, make, options?.ConversationStore);
  eventLogContract(name, make, options?.EventLog);
  receiptStoreContract(name, make, options?.ReceiptStore);
}
