import { fileURLToPath } from 'node:url';
import { VERSION } from '../version.js';

// The entry point of the `okesu` binary: wiring only. The daimon also runs this file as a short-lived child that
// parses its agent files away from its own heap (daimon/agent-catalog-child.ts).
const args = process.argv.slice(2);
if (args[0] === '__okesu-agent-catalog') {
  const { printAgentCatalog } = await import('../../daimon/agent-catalog-child.js');
  await printAgentCatalog(args.slice(1), process.stdout);
} else {
  const deps = { version: VERSION, stdout: process.stdout, stderr: process.stderr, env: process.env, entry: fileURLToPath(import.meta.url) };
  // The daimon, a process that lives as long as the host, loads its own command only (src/cli/daemon-program.ts).
  const { runCli } = args[0] === 'daemon' ? { runCli: (await import('./daemon-program.js')).runDaemonCli } : await import('./program.js');
  process.exitCode = await runCli(args, deps);
}
