import { holdForStartUp } from './daemon-start-up.js';

// Imported first by main.ts (the single executable's split CLI runs it before loading any command), and bundled into
// the banner of the one-file dist/okesu.js by scripts/build.mjs, so that it runs before the other modules' top-level
// code there: measured, holding from main.ts's first import instead left the idle bundle daimon 6.8 MiB larger.
if (process.argv[2] === 'daemon') holdForStartUp();
