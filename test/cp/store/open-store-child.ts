// A separate process opening the store at argv[2] (a PostgreSQL URL), as a replica starting does; prints `opened`.
import { openStore } from '../../../src/cp/store/store.js';

const store = openStore(process.argv[2] as string);
store.close();
process.stdout.write('opened\n');
