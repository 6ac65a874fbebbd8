import * as vitest from 'vitest';
import { describeCases } from './detection-case.js';
import { cases } from './cases/instance-integrity.js';

// Every rule of agents/instance-integrity.md against files, a dpkg root and a module list planted in a sandbox,
// through the built CLI (npm run build).
describeCases('instance-integrity: planted cases and their clean counterparts', cases, vitest);
