// Runs the EventBus contract against every registered bus adapter.
import { eventBusContract } from "./bus.contract.ts";
import { busAdapters } from "./registry.ts";

for (const { name, make, options } of busAdapters) eventBusContract(name, make, options);
