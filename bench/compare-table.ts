/**
 * The table of bench/compare.sh: #19's figures of a ref and of the working tree, side by side,
 * read from the JSON line each bench run printed (FOLDER/{ref,tree}-{connections,fan-out,cluster}.json).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Row {
  readonly chatd: number;
  readonly baseline: number;
  readonly ratio: number;
  readonly chatdRuns: readonly number[];
  readonly baselineRuns: readonly number[];
}

type Side = 'ref' | 'tree';
type Column = 'chatd' | 'baseline' | 'ratio';

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const isNumbers = (value: unknown): value is number[] => Array.isArray(value) && value.every((each) => typeof each === 'number' || each === null);
// JSON writes NaN as null.
const numberOf = (value: unknown): number => (typeof value === 'number' ? value : Number.NaN);

function rowOf(value: unknown): Row | undefined {
  if (!isRecord(value) || !isNumbers(value.chatdRuns) || !isNumbers(value.baselineRuns)) return undefined;
  return {
    chatd: numberOf(value.chatd), baseline: numberOf(value.baseline), ratio: numberOf(value.ratio),
    chatdRuns: value.chatdRuns.map(numberOf), baselineRuns: value.baselineRuns.map(numberOf),
  };
}

/** The figures of one bench run, by key; none when the run failed or printed no JSON. */
function figures(folder: string, side: Side, scenario: string): Map<string, Row> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(folder, `${side}-${scenario}.json`), 'utf8'));
    if (!isRecord(parsed) || !isRecord(parsed.figures)) return new Map();
    return new Map(Object.entries(parsed.figures).flatMap(([key, value]) => {
      const row = rowOf(value);
      return row === undefined ? [] : [[key, row]];
    }));
  } catch {
    return new Map();
  }
}

const format = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** A figure: which run, which key, which column, and what #19 asks of it. */
interface Figure {
  readonly label: string;
  readonly scenario: 'connections' | 'fan-out' | 'cluster';
  readonly key: string;
  readonly column: Column;
  readonly digits: number;
  readonly aim: string;
}

const figure = (label: string, scenario: Figure['scenario'], key: string, column: Column, digits: number, aim = ''): Figure => ({ label, scenario, key, column, digits, aim });

const FIGURES: readonly Figure[] = [
  figure('fan-out 1000: lines delivered/s, chatd', 'fan-out', 'fanout1000.throughput', 'chatd', 0),
  figure('fan-out 1000: lines delivered/s, baseline', 'fan-out', 'fanout1000.throughput', 'baseline', 0),
  figure('fan-out 1000: throughput, chatd / baseline', 'fan-out', 'fanout1000.throughput', 'ratio', 2, '>= 10'),
  figure('fan-out 1000: p99 at 50 lines/s in, chatd, ms', 'fan-out', 'fanout1000.p99', 'chatd', 2),
  figure('fan-out 1000: p99 at 50 lines/s in, chatd / baseline', 'fan-out', 'fanout1000.p99', 'ratio', 2, '0.8 to 1.25'),
  figure('fan-out 100: throughput, chatd / baseline', 'fan-out', 'fanout100.throughput', 'ratio', 2),
  figure('connections: RSS per idle user, chatd, KiB', 'connections', 'connections.rssPerConnection', 'chatd', 2),
  figure('connections: RSS per idle user, chatd / baseline', 'connections', 'connections.rssPerConnection', 'ratio', 2, '<= 1.7'),
  figure('connections: JS heap per idle user, chatd, KiB', 'connections', 'connections.heapPerConnection', 'chatd', 2),
  figure('cluster: throughput, two nodes / one', 'cluster', 'cluster.throughput', 'ratio', 2, '>= 0.8'),
  figure('cluster: p99 at 50 lines/s in, two nodes / one', 'cluster', 'cluster.p99', 'ratio', 2, '< 2'),
  figure('cluster: CPU per line saturated, two nodes + Redis, µs', 'cluster', 'cluster.saturated.cpuPerLine', 'chatd', 3),
  figure('cluster: CPU per line saturated, one node, µs', 'cluster', 'cluster.saturated.cpuPerLine', 'baseline', 3),
  figure('cluster: CPU per line saturated, two / one', 'cluster', 'cluster.saturated.cpuPerLine', 'ratio', 2, 'aim <= 1.3'),
  figure('cluster: CPU per line at 50 lines/s in, two / one', 'cluster', 'cluster.paced.cpuPerLine', 'ratio', 2, 'aim <= 1.3'),
  figure('cluster: Redis CPU saturated, %', 'cluster', 'cluster.saturated.redisCpu', 'chatd', 0),
];

/** The median and, with more than one run, each run's value: the spread says what a difference means. */
function cell(row: Row | undefined, column: Column, digits: number): string {
  if (row === undefined) return '-';
  const runs = column === 'chatd' ? row.chatdRuns : column === 'baseline' ? row.baselineRuns : row.chatdRuns.map((chatd, run) => chatd / (row.baselineRuns[run] ?? Number.NaN));
  const each = runs.length > 1 ? ` (${runs.map((value) => format(value, digits)).join(', ')})` : '';
  return `${format(row[column], digits)}${each}`;
}

function main(): void {
  const [folder, refName] = process.argv.slice(2);
  if (folder === undefined || refName === undefined) throw new Error('usage: compare-table FOLDER REF');
  const runsOf = (side: Side) => new Map((['connections', 'fan-out', 'cluster'] as const).map((scenario) => [scenario, figures(folder, side, scenario)]));
  const ref = runsOf('ref');
  const tree = runsOf('tree');
  const rows = FIGURES.map(({ label, scenario, key, column, digits, aim }) => {
    const before = ref.get(scenario)?.get(key);
    const after = tree.get(scenario)?.get(key);
    const change = format((after?.[column] ?? Number.NaN) / (before?.[column] ?? Number.NaN), 2);
    return [label, cell(before, column, digits), cell(after, column, digits), change, aim];
  });
  process.stdout.write(`${table([['figure (median, each run in brackets)', refName, 'tree', 'tree / ref', '#19'], ...rows])}\n`);
}

main();
