import * as vitest from 'vitest';
import { describeCases } from './detection-case.js';
import { cases } from './cases/edr.js';

// The edr agent's planted cases and their clean counterparts, through the built CLI (npm run build first).
describeCases('edr', cases, vitest);
