import * as vitest from 'vitest';
import { describeCases } from './detection-case.js';
import { cases } from './cases/persistence.js';

// Every rule of agents/persistence.md against a host tree planted in a sandbox (through the agent's `root` input),
// through the built CLI (npm run build).
describeCases('persistence: planted cases and their clean counterparts', cases, vitest);
