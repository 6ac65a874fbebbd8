/**
 * Ink decides once, when it is first imported, whether it runs in CI (the `is-in-ci` package reads `CI` and
 * `CONTINUOUS_INTEGRATION`), and in CI it draws nothing until exit but the last frame. On a real terminal that leaves
 * a user whose shell exports CI=true staring at a blank screen, so the console drops those variables from the
 * environment when stdout is a terminal. Call it before anything imports Ink: in the bundle the console module
 * evaluates Ink as soon as it is loaded.
 */
export function ignoreCiOnTerminal(env: NodeJS.ProcessEnv, stdout: { isTTY?: boolean }): void {
  if (stdout.isTTY !== true) return;
  delete env['CI'];
  delete env['CONTINUOUS_INTEGRATION'];
}
