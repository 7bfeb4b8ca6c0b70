/** `bin/baton.js` for tests: runs the CLI from the TypeScript sources (spawned with `node --require tsx/cjs`). */
import { main } from '../../../src/cli/main';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 2;
  },
);
