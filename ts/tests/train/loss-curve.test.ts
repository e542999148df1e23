import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { escapeXml, lossCurveSvg } from '../../src/train/loss-curve.js';

/** Checks tags are balanced (a small well-formedness check; no DOM parser in Node). */
function checkBalanced(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
    const [, close, name, selfClose] = match;
    if (selfClose) continue;
    if (close) expect(stack.pop()).toBe(name);
    else stack.push(name ?? '');
  }
  expect(stack).toEqual([]);
  // No raw '&' that is not an entity, no '<' inside attribute values or text.
  expect(/&(?!(?:amp|lt|gt|quot|apos);)/.test(svg)).toBe(false);
}

function polylines(svg: string): Map<string, Array<[number, number]>> {
  const out = new Map<string, Array<[number, number]>>();
  for (const m of svg.matchAll(/<polyline data-series="([^"]*)"[^>]* points="([^"]*)"\/>/g)) {
    const pts = (m[2] ?? '').split(' ').map((p) => p.split(',').map(Number) as [number, number]);
    out.set(m[1] ?? '', pts);
  }
  return out;
}

describe('lossCurveSvg', () => {
  const train = Array.from({ length: 50 }, (_, i) => ({ step: i * 10, loss: 4 * Math.exp(-i / 20) + 0.5 }));
  const val = Array.from({ length: 5 }, (_, i) => ({ step: i * 100, loss: 4 * Math.exp(-i / 2) + 0.7 }));

  it('draws a well-formed SVG with axes, ticks, legend and one polyline per series', () => {
    const svg = lossCurveSvg(
      [
        { name: 'train', points: train },
        { name: 'val', points: val },
      ],
      { title: 'GPT' },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    checkBalanced(svg);
    const lines = polylines(svg);
    expect(lines.get('train')?.length).toBe(50);
    expect(lines.get('val')?.length).toBe(5);
    for (const [x, y] of [...(lines.get('train') ?? []), ...(lines.get('val') ?? [])]) {
      expect(x >= 64 && x <= 620 && y >= 36 && y <= 356).toBe(true);
    }
    expect(svg).toContain('>step</text>');
    expect(svg).toContain('>loss</text>');
    expect(svg).toContain('>GPT</text>');
    expect(svg).toContain('>train</text>');
    expect(svg).toContain('>val</text>');
    expect(svg).toMatch(/<text[^>]*>400<\/text>/); // an x tick label
    expect(svg).toMatch(/<text[^>]*>1<\/text>/); // a y tick label
  });

  it('ignores non-finite points and keeps empty series in the legend only', () => {
    const points = [
      { step: 0, loss: 3 },
      { step: 1, loss: Number.NaN },
      { step: 2, loss: Infinity },
      { step: Number.NaN, loss: 1 },
      { step: 3, loss: 2 },
    ];
    const svg = lossCurveSvg([
      { name: 'train', points },
      { name: 'empty', points: [{ step: 1, loss: Number.NaN }] },
    ]);
    checkBalanced(svg);
    expect(polylines(svg).get('train')?.length).toBe(2);
    expect(polylines(svg).has('empty')).toBe(false);
    expect(svg).toContain('>empty</text>');
    expect(svg).not.toMatch(/NaN|Infinity/);
  });

  it('handles a single point and no data at all', () => {
    const one = lossCurveSvg([{ name: 'train', points: [{ step: 5, loss: 2 }] }]);
    checkBalanced(one);
    expect(polylines(one).get('train')?.length).toBe(1);
    expect(one).toContain('<circle');
    expect(one).not.toMatch(/NaN|Infinity/);
    const none = lossCurveSvg([]);
    checkBalanced(none);
    expect(none).toContain('no data');
  });

  it('escapes names and titles for XML', () => {
    expect(escapeXml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&apos;');
    const svg = lossCurveSvg([{ name: 'tr<ain> & "val"', points: train }], { title: `loss <&> 'x'` });
    checkBalanced(svg);
    expect(svg).toContain('tr&lt;ain&gt; &amp; &quot;val&quot;');
    expect(svg).toContain('loss &lt;&amp;&gt; &apos;x&apos;');
    expect(svg).not.toContain('tr<ain>');
  });

  it('rejects bad arguments', () => {
    expect(() => lossCurveSvg({} as unknown as [])).toThrow(InvalidArgumentError);
    expect(() => lossCurveSvg([{ name: 'x' } as unknown as { name: string; points: [] }])).toThrow(/series\[0\]/);
    expect(() => lossCurveSvg([], { width: 0 })).toThrow(/width/);
    expect(() => lossCurveSvg([], { height: Number.NaN })).toThrow(/height/);
  });
});
