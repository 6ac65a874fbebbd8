import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';

// The entry point of the `okesu` binary: wiring only. The daimon also runs this file as a short-lived child that
// parses its agent files away from its own heap (daimon/agent-catalog-child.ts).
const args = process.argv.slice(2);
if (args[0] === '__okesu-agent-catalog') {
  const { printAgentCatalog } = await import('../../daimon/agent-catalog-child.js');
  await printAgentCatalog(args.slice(1), process.stdout);
} else {
  const { runCli } = await import('./program.js');
  const deps = { version: VERSION, stdout: process.stdout, stderr: process.stderr, env: process.env, entry: fileURLToPath(import.meta.url) };
  process.exitCode = await runCli(args, deps);
}
