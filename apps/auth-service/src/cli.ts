import 'reflect-metadata';
import { runCli } from './cli/program';

/*
 * The admin CLI: `npm run -s cli -- <command> [--json]`. Exit codes: 0 ok, 1 the operation failed,
 * 2 bad usage or configuration. With --json, stdout carries only the JSON document.
 */
runCli(process.argv).then(
  (code) => {
    // exitCode rather than exit(): let stdout drain before the process ends (pipes are asynchronous).
    process.exitCode = code;
  },
  (error: unknown) => {
    // runCli maps every failure to an exit code; this is the last guard, so nothing ends as an unhandled rejection.
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
