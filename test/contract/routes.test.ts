// Runs the RouteRegistry contract against every registered route registry.
import { routeAdapters } from "./registry.ts";
import { routeRegistryContract } from "./routes.contract.ts";

for (const { name, make, options } of routeAdapters) routeRegistryContract(name, make, options?.RouteRegistry);
