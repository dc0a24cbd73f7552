import {
  Chart, Filler, LineController, LineElement, LinearScale, PointElement, Tooltip, type ChartDataset,
} from 'chart.js';
import { LitElement, css, html, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { ClipScore } from '../../../server/api/wire.js';
import { colours } from '../theme.js';
import { pts } from '../format.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Filler, Tooltip);

type Point = { x: number; y: number };

/**
 * Rolling score (line) and per-clip probability (dots) of one track over stream time, with
 * the decision threshold dashed. Updated in place without animation: new scores arrive
 * several times a second.
 */
@customElement('dw-score-chart')
export class DwScoreChart extends LitElement {
  static override styles = css`
    :host { display: block; height: 96px; }
    /* Chart.js sizes the canvas from its parent element, which must hold nothing else. */
    .box { position: relative; width: 100%; height: 100%; }
  `;

  @property({ attribute: false }) scores: ClipScore[] = [];
  @property({ type: Number }) threshold: number | null = null;
  /** Seconds of stream time shown. */
  @property({ type: Number }) window = 60;

  @query('canvas') private canvas!: HTMLCanvasElement;
  #chart: Chart<'line', Point[]> | null = null;

  override render() {
    return html`<div class="box"><canvas role="img" aria-label="rolling score over time"></canvas></div>`;
  }

  override firstUpdated(): void {
    const rolling: ChartDataset<'line', Point[]> = {
      label: 'rolling', data: [], borderColor: colours.accent, borderWidth: 2, pointRadius: 0, tension: 0.25,
      fill: { target: 'origin' }, backgroundColor: 'rgba(91,156,255,0.10)',
    };
    const clips: ChartDataset<'line', Point[]> = {
      label: 'clip', data: [], showLine: false, pointRadius: 2, pointBackgroundColor: 'rgba(231,234,240,0.45)', pointBorderWidth: 0,
    };
    const threshold: ChartDataset<'line', Point[]> = {
      label: 'threshold', data: [], borderColor: colours.fake, borderWidth: 1, borderDash: [4, 4], pointRadius: 0,
    };
    this.#chart = new Chart<'line', Point[]>(this.canvas, {
      type: 'line',
      data: { datasets: [rolling, clips, threshold] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          legend: { display: false },
          tooltip: {
            displayColors: false,
            filter: (item) => item.datasetIndex !== 2,
            callbacks: {
              title: (items) => (items[0] ? `t = ${pts((items[0].raw as Point).x)}` : ''),
              label: (item) => `${item.dataset.label}: ${(item.raw as Point).y.toFixed(2)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear', grid: { color: colours.grid }, border: { display: false },
            ticks: { color: colours.muted, maxTicksLimit: 5, font: { size: 10 }, callback: (v) => pts(Number(v)) },
          },
          y: {
            min: 0, max: 1, grid: { color: colours.grid }, border: { display: false },
            ticks: { color: colours.muted, stepSize: 0.5, font: { size: 10 } },
          },
        },
      },
    });
    this.#sync();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('scores') || changed.has('threshold')) this.#sync();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#chart?.destroy();
    this.#chart = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a move in the DOM: build the chart again.
    if (this.hasUpdated && !this.#chart) this.firstUpdated();
  }

  #sync(): void {
    const chart = this.#chart;
    if (!chart) return;
    const first = this.scores[0];
    const last = this.scores[this.scores.length - 1];
    const end = last ? last.ptsEnd : 0;
    // Show the last `window` seconds, or less while the track is younger than that.
    const start = Math.max(first ? first.ptsEnd : 0, end - this.window);
    const shown = this.scores.filter((s) => s.ptsEnd >= start);
    chart.data.datasets[0]!.data = shown.map((s) => ({ x: s.ptsEnd, y: s.rolling }));
    chart.data.datasets[1]!.data = shown.map((s) => ({ x: s.ptsEnd, y: s.probability }));
    chart.data.datasets[2]!.data = this.threshold === null ? [] : [{ x: start, y: this.threshold }, { x: Math.max(end, start + 1), y: this.threshold }];
    chart.options.scales!.x!.min = start;
    chart.options.scales!.x!.max = Math.max(end, start + 5);
    chart.update('none');
    // For tests and curious operators: how many clips the chart draws now.
    this.dataset.points = String(shown.length);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-score-chart': DwScoreChart;
  }
}
