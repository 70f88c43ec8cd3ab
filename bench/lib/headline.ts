/**
 * The headline figures of a bench run, kept in RESULTS.md (as a JSON comment) so the next run can
 * print its figures beside the previous run's and a regression is visible in one table.
 */
export interface Headline {
  date: string;
  loadAverage: string;
  figures: Record<string, string>;
}

const MARK = 'bench-headline';

/** The comment that carries `h` at the end of RESULTS.md. */
export function headlineComment(h: Headline): string {
  return `<!-- ${MARK} ${JSON.stringify(h)} -->`;
}

/**
 * The headline of a previous RESULTS.md: its comment, or for a file written before the comment
 * existed, the figures read back from its tables (throughput, fan-out, cost analytics).
 */
export function previousHeadline(markdown: string): Headline | null {
  const comment = new RegExp(`<!-- ${MARK} (\\{.*\\}) -->`).exec(markdown);
  if (comment) return JSON.parse(comment[1]!) as Headline;
  const date = /on (\d{4}-\d{2}-\d{2}T[\d:.]+Z)/.exec(markdown)?.[1];
  if (!date) return null;
  const figures: Record<string, string> = {};
  for (const name of ['chatgraph', 'floor', 'chatgraph, peer fields', 'postgraphile']) {
    const row = new RegExp(`^\\| ${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\| \\*\\*(\\d+)\\*\\* \\| [^|]* \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.]+) \\| ([\\d.n/a]+) \\|`, 'm').exec(markdown);
    if (!row) continue;
    figures[`${name}: req/s`] = row[1]!;
    figures[`${name}: p99 ms`] = row[3]!;
    figures[`${name}: server CPU ms/req`] = row[4]!;
    figures[`${name}: Postgres CPU ms/req`] = row[5]!;
  }
  const ratio = (a?: string, b?: string) => (a && b ? `${(Number(a) / Number(b)).toFixed(2)}×` : undefined);
  const floorRatio = ratio(figures['floor: req/s'], figures['chatgraph: req/s']);
  if (floorRatio) figures['floor / chatgraph'] = floorRatio;
  const peerRatio = ratio(figures['chatgraph, peer fields: req/s'], figures['postgraphile: req/s']);
  if (peerRatio) figures['chatgraph / PostGraphile, same fields'] = peerRatio;
  const fanout = /^\| (\d+) \| (\d+) \| (\d+) \/ (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|/m.exec(markdown);
  if (fanout) {
    figures['fan-out: delivered / expected'] = `${fanout[3]} / ${fanout[4]}`;
    figures['fan-out: p50 ms'] = fanout[5]!;
    figures['fan-out: p99 ms'] = fanout[7]!;
  }
  const cost = (label: string, key: string) => {
    const m = new RegExp(`^\\| ${label}[^|]* \\| \\d+ \\| ([\\d.]+) \\|`, 'm').exec(markdown);
    if (m) figures[key] = m[1]!;
  };
  cost('costSummary, 30 days \\(100k msgs\\)', 'costSummary 30 days: p50 ms');
  cost('costUsers first 50', 'costUsers first 50: p50 ms');
  const load = /load average \(1\/5\/15 min\) at start \| ([^|]+) \|/.exec(markdown)?.[1]?.trim() ?? 'n/a';
  return { date, loadAverage: load, figures };
}

/** The markdown table of this run's headline beside the previous one. */
export function headlineTable(current: Headline, previous: Headline | null): string[] {
  const keys = [...new Set([...Object.keys(current.figures), ...Object.keys(previous?.figures ?? {})])];
  const prevLabel = previous ? `previous run (${previous.date.slice(0, 16).replace('T', ' ')}, load ${previous.loadAverage})` : 'previous run';
  return [
    `| measure | this run (load ${current.loadAverage}) | ${prevLabel} |`,
    '|---|---|---|',
    ...keys.map((k) => `| ${k} | ${current.figures[k] ?? 'n/a'} | ${previous?.figures[k] ?? 'n/a'} |`),
  ];
}
