import type { BenchSuite } from '../lib/types.js';
import { suite as tunnelCapacitySuite } from './tunnel-capacity.js';
import { ingestSuite } from './ingest.js';
import { suite as fanOutSuite } from './fan-out.js';
import { suite as e2eLatencySuite } from './e2e-latency.js';
import { daimonFootprintSuite } from './daimon-footprint.js';
import { suite as reconnectStormSuite } from './reconnect-storm.js';
import { suite as consoleSuite } from './console.js';
import { suite as authFloodSuite } from './auth-flood.js';
import { suite as jobsModeSuite } from './jobs-mode.js';
import { suite as clusterSuite } from './cluster.js';

/**
 * Every suite, in the order they run: issue 4's numbering, then the console's (issue 7), then the auth flood (issue 13),
 * then jobs mode (issue 14), then the cluster (issue 16) — except that tunnel-capacity → fan-out → reconnect-storm run
 * back to back: they share one CP and its connected 10,000-host fleet (`sim/shared-fleet.ts`, the chain's order).
 */
export const suites: BenchSuite[] = [tunnelCapacitySuite, fanOutSuite, reconnectStormSuite, ingestSuite, e2eLatencySuite, daimonFootprintSuite, consoleSuite, authFloodSuite, jobsModeSuite, clusterSuite];
