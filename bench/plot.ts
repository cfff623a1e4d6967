/**
 * The benchmark's figures as an SVG chart, for the README: one bar per figure showing how many
 * times better chatd did than the baseline, on a log scale, with each run as a dot and the
 * issue's target as a mark. Written by hand, so the benchmark needs no plotting dependency.
 */

/** One figure. An advantage above 1 means chatd did better than the baseline, below 1 worse. */
export interface Bar {
  readonly label: string;
  /** The median run's advantage. */
  readonly advantage: number;
  /** Each run's advantage. */
  readonly runs: readonly number[];
  /** The least advantage a target asks for; undefined where the issue sets none. */
  readonly target: number | undefined;
}

/** How the bar of a figure is coloured. */
export type Verdict = 'better' | 'worse' | 'missed';

/** Advantages outside this range are drawn at its edge, with their value printed. */
const SCALE_MIN = 0.1;
const SCALE_MAX = 100;
const GRID = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100];

const WIDTH = 820;
const PLOT_LEFT = 360;
const PLOT_RIGHT = 770;
const TOP = 74;
const ROW = 24;
const BAR_HEIGHT = 12;
const BOTTOM = 56;

const COLOURS: Record<Verdict, string> = { better: '#2e7d32', worse: '#ef6c00', missed: '#c62828' };

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal position of an advantage: log scale, clamped to the plot. */
export function xOf(advantage: number): number {
  const clamped = Math.min(SCALE_MAX, Math.max(SCALE_MIN, advantage));
  const share = Math.log10(clamped / SCALE_MIN) / Math.log10(SCALE_MAX / SCALE_MIN);
  return PLOT_LEFT + share * (PLOT_RIGHT - PLOT_LEFT);
}

export function verdictOf(bar: Bar): Verdict {
  if (bar.target !== undefined && !(bar.advantage >= bar.target)) return 'missed';
  return bar.advantage >= 1 ? 'better' : 'worse';
}

const times = (advantage: number) => `${advantage >= 9.95 ? advantage.toFixed(0) : advantage.toFixed(2)}x`;
const px = (value: number) => value.toFixed(1);

function row(bar: Bar, index: number): string {
  const middle = TOP + index * ROW + ROW / 2;
  const one = xOf(1);
  const end = xOf(bar.advantage);
  const verdict = verdictOf(bar);
  // The value goes past the bar and past every run's dot, on the side the bar grows to.
  const reach = [end, ...bar.runs.map(xOf)];
  const valueX = end >= one ? Math.max(...reach) + 6 : Math.min(...reach) - 6;
  const anchor = end >= one ? 'start' : 'end';
  const parts = [
    `<text x="${PLOT_LEFT - 10}" y="${px(middle + 4)}" text-anchor="end">${escapeXml(bar.label)}</text>`,
    `<rect x="${px(Math.min(one, end))}" y="${px(middle - BAR_HEIGHT / 2)}" width="${px(Math.max(1, Math.abs(end - one)))}" ` +
      `height="${BAR_HEIGHT}" fill="${COLOURS[verdict]}" class="${verdict}"><title>${escapeXml(bar.label)}: ${times(bar.advantage)}</title></rect>`,
    ...bar.runs.map((run) => `<circle cx="${px(xOf(run))}" cy="${px(middle)}" r="2.5" fill="#000" fill-opacity="0.55"/>`),
    `<text x="${px(valueX)}" y="${px(middle + 4)}" text-anchor="${anchor}" font-weight="bold">${times(bar.advantage)}</text>`,
  ];
  if (bar.target !== undefined) {
    const x = px(xOf(bar.target));
    parts.push(`<line x1="${x}" x2="${x}" y1="${px(middle - ROW / 2 + 2)}" y2="${px(middle + ROW / 2 - 2)}" stroke="#000" stroke-width="2" class="target"/>`);
  }
  return parts.join('\n');
}

function axis(height: number): string {
  const bottom = height - BOTTOM;
  return GRID.map((value) => {
    const x = px(xOf(value));
    const major = Number.isInteger(Math.log10(value));
    const stroke = value === 1 ? '#000' : major ? '#999' : '#ddd';
    const tick = `<text x="${x}" y="${bottom + 16}" text-anchor="middle">${value}x</text>`;
    return `<line x1="${x}" x2="${x}" y1="${TOP - 4}" y2="${bottom}" stroke="${stroke}"/>${major ? tick : ''}`;
  }).join('\n');
}

/** The chart as a standalone SVG document. */
export function plot(title: string, subtitle: string, bars: readonly Bar[]): string {
  const height = TOP + bars.length * ROW + BOTTOM;
  const legendY = height - 14;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="12" y="44" fill="#444">${escapeXml(subtitle)}</text>`,
    `<text x="${px(xOf(1) - 6)}" y="${TOP - 10}" text-anchor="end" fill="${COLOURS.worse}">&#8592; baseline better</text>`,
    `<text x="${px(xOf(1) + 6)}" y="${TOP - 10}" fill="${COLOURS.better}">chatd better &#8594;</text>`,
    axis(height),
    ...bars.map(row),
    `<text x="12" y="${legendY}" fill="#444">bar: the median run, log scale; dot: one run; black mark: the target; ` +
      `red: a target missed</text>`,
    '</svg>',
    '',
  ].join('\n');
}
