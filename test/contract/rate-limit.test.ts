// Runs the RateLimiter contract against every registered rate limiter.
import { rateLimiterContract } from "./rate-limit.contract.ts";
import { rateLimiterAdapters } from "./registry.ts";

for (const { name, make, options } of rateLimiterAdapters) rateLimiterContract(name, make, options);
