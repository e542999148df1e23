/** Line charts with uPlot: small, fast canvas charts made for data that streams in. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** One name per y series. */
  series: string[];
  width?: number;
  height?: number;
  /** Log-scaled y axis. */
  logY?: boolean;
  /** Draw points only (no lines). */
  points?: boolean;
  /** Per series: the colour index (default: the series index) and a dash pattern. */
  styles?: { color: number; dash?: number[] }[];
}

/** A chart whose data is replaced with {@link LineChart.set}; redraws once per frame at most. */
export interface LineChart {
  /** `xs: [N]`, `ys: [S][N]` (null = no point). */
  set(xs: number[], ys: (number | null)[][]): void;
  readonly element: HTMLElement;
}

export function lineChart(container: HTMLElement, options: LineChartOptions): LineChart {
  const plot = new uPlot(
    {
      title: options.title,
      width: options.width ?? 640,
      height: options.height ?? 280,
      scales: { x: { time: false }, y: options.logY ? { distr: 3 } : {} },
      axes: [{ label: options.xLabel }, { label: options.yLabel, size: 60 }],
      series: [
        { label: options.xLabel },
        ...options.series.map((label, i) => ({
          label,
          stroke: COLORS[(options.styles?.[i]?.color ?? i) % COLORS.length],
          ...(options.styles?.[i]?.dash ? { dash: options.styles[i].dash } : {}),
          width: 2,
          spanGaps: true,
          ...(options.points ? { paths: () => null, points: { show: true, size: 5, fill: COLORS[i % COLORS.length] } } : {}),
        })),
      ],
    },
    [[], ...options.series.map(() => [])],
    container,
  );
  let pending: uPlot.AlignedData | undefined;
  return {
    element: plot.root,
    set(xs, ys) {
      const first = pending === undefined;
      pending = [xs, ...ys] as uPlot.AlignedData;
      if (first) {
        requestAnimationFrame(() => {
          if (pending) plot.setData(pending);
          pending = undefined;
        });
      }
    },
  };
}
