/** Everything the CLI prints goes through here: machine output on stdout, diagnostics on stderr. */

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLines(...lines: string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line of stdout, waiting when the pipe is full so that a long export does not pile up in memory. */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
}

type Cell = string | number | boolean | null | undefined | string[];

function cell(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length ? value.join(',') : '-';
  return String(value);
}

/** A plain aligned table for people; scripts should use --json. */
export function printTable(headers: string[], rows: Cell[][]): void {
  if (rows.length === 0) {
    process.stdout.write('(none)\n');
    return;
  }
  const text = rows.map((r) => r.map(cell));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  printLines(line(headers), ...text.map(line));
}

export function fail(message: string): void {
  process.stderr.write(`${message.endsWith('\n') ? message : `${message}\n`}`);
}
