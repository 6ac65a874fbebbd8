import { runCli } from './program.js';
import { VERSION } from '../version.js';

// The entry point of the `okesu` binary: wiring only.
process.exitCode = await runCli(process.argv.slice(2), { version: VERSION, stdout: process.stdout, stderr: process.stderr, env: process.env });
