import { type Bar, plot, verdictOf, xOf } from '../bench/plot';

const bar = (advantage: number, target?: number, runs: readonly number[] = [advantage]): Bar => ({
  label: `figure at ${advantage}`,
  advantage,
  runs,
  target,
});

/** The attributes of each element of one kind, in document order. */
function elements(svg: string, tag: string): Record<string, string>[] {
  return [...svg.matchAll(new RegExp(`<${tag} ([^>]*?)/?>`, 'g'))].map((match) =>
    Object.fromEntries([...(match[1] ?? '').matchAll(/([\w-]+)="([^"]*)"/g)].map(([, name, value]) => [name, value])),
  );
}

const bars = (svg: string) => elements(svg, 'rect').filter((rect) => rect.class !== undefined);

describe('the benchmark chart', () => {
  it('puts equal ratios at equal distances from 1x, and clamps what is off the scale', () => {
    expect(xOf(10) - xOf(1)).toBeCloseTo(xOf(1) - xOf(0.1), 6);
    expect(xOf(4) - xOf(2)).toBeCloseTo(xOf(2) - xOf(1), 6);
    expect(xOf(5000)).toBe(xOf(100));
    expect(xOf(0)).toBe(xOf(0.1));
  });

  it('colours a missed target apart from a figure that is only worse', () => {
    expect(verdictOf(bar(2))).toBe('better');
    expect(verdictOf(bar(0.9))).toBe('worse');
    expect(verdictOf(bar(0.9, 1 / 1.2))).toBe('worse'); // worse than the baseline, within its target
    expect(verdictOf(bar(0.56, 1 / 1.2))).toBe('missed');
    expect(verdictOf(bar(1.4, 1.5))).toBe('missed');
    expect(verdictOf(bar(Number.NaN, 1))).toBe('missed');
  });

  it('draws a better figure right of 1x and a worse one left of it, with its runs and target', () => {
    const svg = plot('title', 'subtitle', [bar(2, 1.5, [1.8, 2, 2.4]), bar(0.5)]);
    const [better, worse] = bars(svg);
    const one = xOf(1);
    expect(Number(better?.x)).toBeCloseTo(one, 0);
    expect(Number(better?.x) + Number(better?.width)).toBeCloseTo(xOf(2), 0);
    expect(better?.class).toBe('better');
    expect(Number(worse?.x)).toBeCloseTo(xOf(0.5), 0);
    expect(Number(worse?.x) + Number(worse?.width)).toBeCloseTo(one, 0);
    expect(worse?.class).toBe('worse');
    expect(elements(svg, 'circle').map((dot) => Number(dot.cx))).toEqual([1.8, 2, 2.4, 0.5].map((run) => Number(xOf(run).toFixed(1))));
    const targets = elements(svg, 'line').filter((line) => line.class === 'target');
    expect(targets.map((line) => Number(line.x1))).toEqual([Number(xOf(1.5).toFixed(1))]);
    expect(svg).toContain('>2.00x<');
    expect(svg).toContain('>0.50x<');
  });

  it('escapes labels, so a figure name cannot break the document', () => {
    const svg = plot('a < b & c', 'subtitle', [{ ...bar(3), label: 'p99 <= baseline' }]);
    expect(svg).toContain('a &lt; b &amp; c');
    expect(svg).toContain('p99 &lt;= baseline');
    expect(svg).not.toContain('p99 <=');
  });
});
