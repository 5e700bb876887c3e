import { readFileSync } from 'node:fs';

/** The last lines of a log file, for failure messages. */
export function tailOf(path: string, lines = 60): string {
  try {
    const text = readFileSync(path, 'utf8').split('\n');
    return `--- ${path} (last ${lines} lines) ---\n${text.slice(-lines - 1).join('\n')}`;
  } catch {
    return `--- ${path} (missing) ---`;
  }
}
