// Prints one frame of the fleet view to stdout, as Ink drew it (with ANSI codes when chalk has colour):
// the NO_COLOR test runs it in a child process so the theme reads NO_COLOR at start-up like the real console.
import { snapshot } from '../store/fixtures.js';
import { mixedFleet } from './fleet-data.js';
import { renderConsole } from './frame.js';

const c = await renderConsole({ width: 100, height: 16, events: [snapshot({ hosts: mixedFleet() })] });
process.stdout.write(c.frame());
c.unmount();
