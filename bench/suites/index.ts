import type { BenchSuite } from '../lib/types.js';
import { ingestSuite } from './ingest.js';
import { daimonFootprintSuite } from './daimon-footprint.js';
import { suite as e2eLatencySuite } from './e2e-latency.js';
import { suite as reconnectStormSuite } from './reconnect-storm.js';

/** The suites this folder always has, in the order they run. Optional suites are found by `../lib/discover.ts`. */
export const suites: BenchSuite[] = [ingestSuite, e2eLatencySuite, daimonFootprintSuite, reconnectStormSuite];
