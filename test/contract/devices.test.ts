// Runs the LinkTokenStore contract against every registered adapter.
import { linkTokenContract } from "./devices.contract.ts";
import { linkTokenAdapters } from "./registry.ts";

for (const { name, make, options } of linkTokenAdapters) linkTokenContract(name, make, options?.LinkTokenStore);
