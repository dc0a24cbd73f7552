import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import type { StreamState, TrackUpdate } from '../../../server/api/wire.js';
import type { Preview } from '../store.js';
import { verdictColour } from '../theme.js';
import { score } from '../format.js';

const EMPTY: Record<StreamState, string> = {
  live: 'Waiting for a preview frame…',
  waiting: 'Waiting for the publisher…',
  stalled: 'No picture: no frames are arriving',
  reconnecting: 'Reconnecting to the source…',
  ended: 'The stream has ended',
  failed: 'No picture: the stream failed',
};

/**
 * The stream's latest preview JPEG with a box per face, drawn here from the tracks the
 * preview was taken with, labelled with the identity and the newest rolling score and
 * coloured by verdict.
 */
@customElement('dw-preview')
export class DwPreview extends LitElement {
  static override styles = css`
    :host {
      display: block; position: relative; aspect-ratio: 16 / 9; background: #07080b; border-radius: 8px; overflow: hidden;
    }
    canvas { width: 100%; height: 100%; display: block; object-fit: contain; }
    .empty {
      position: absolute; inset: 0; display: grid; place-items: center; color: var(--muted); font-size: 13px;
      background: repeating-linear-gradient(135deg, #0b0d12 0 14px, #0d1016 14px 28px);
    }
    .pts {
      position: absolute; right: 8px; bottom: 8px; font: 11px var(--mono); color: #fff; background: rgba(0,0,0,0.55);
      padding: 2px 6px; border-radius: 4px;
    }
  `;

  @property({ attribute: false }) preview: Preview | undefined;
  /** Latest updates of the stream's tracks: their score and verdict label the boxes. */
  @property({ attribute: false }) tracks: TrackUpdate[] = [];
  @property() state: StreamState = 'waiting';

  @query('canvas') private canvas!: HTMLCanvasElement | null;

  override render() {
    if (!this.preview) {
      const why = EMPTY[this.state];
      return html`<div class="empty">${why}</div>`;
    }
    return html`<canvas></canvas><span class="pts">${this.preview.pts.toFixed(1)} s</span>${nothing}`;
  }

  // The card's width decides the label size: redraw when it changes.
  #resize = new ResizeObserver(() => this.#draw());

  override connectedCallback(): void {
    super.connectedCallback();
    this.#resize.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resize.disconnect();
  }

  protected override updated(_changed: PropertyValues<this>): void {
    this.#draw();
  }

  #draw(): void {
    const p = this.preview;
    const canvas = this.canvas;
    if (!p || !canvas) return;
    if (canvas.width !== p.image.width || canvas.height !== p.image.height) {
      canvas.width = p.image.width;
      canvas.height = p.image.height;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.drawImage(p.image, 0, 0);
    // Boxes are in the decoded frame's pixels; the JPEG may be smaller.
    const sx = p.image.width / p.width;
    const sy = p.image.height / p.height;
    const latest = new Map(this.tracks.map((t) => [t.trackId, t]));
    // Lines and labels are sized for the canvas as displayed (scaled to fit the card), not for its pixels.
    const shown = Math.min(canvas.clientWidth / p.image.width, canvas.clientHeight / p.image.height) || 1;
    const line = Math.max(1, 2 / shown);
    const fontPx = Math.round(12.5 / shown);
    ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
    ctx.textBaseline = 'top';
    for (const t of p.tracks) {
      const now = latest.get(t.trackId) ?? t;
      const colour = verdictColour(now.verdict);
      const x = t.box.x * sx;
      const y = t.box.y * sy;
      const w = t.box.width * sx;
      const h = t.box.height * sy;
      ctx.lineWidth = line;
      ctx.strokeStyle = colour;
      ctx.strokeRect(x, y, w, h);
      const label = `#${t.trackId}  ${score(now.score)}${now.verdict === 'pending' ? '' : `  ${now.verdict.toUpperCase()}`}`;
      const pad = Math.round(fontPx * 0.35);
      const tw = ctx.measureText(label).width + pad * 2;
      const th = fontPx + pad * 2;
      const ly = y - th >= 0 ? y - th : y + h;
      ctx.fillStyle = colour;
      ctx.fillRect(x - line / 2, ly, tw, th);
      ctx.fillStyle = '#0b0d12';
      ctx.fillText(label, x - line / 2 + pad, ly + pad);
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-preview': DwPreview;
  }
}
