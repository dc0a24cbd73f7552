import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { AlertWire, StreamStatus } from '../../../server/api/wire.js';
import { base } from '../theme.js';
import { clock, pts, score } from '../format.js';

/** Alerts, open ones first: stream, face, peak and mean score, stream-time range, evidence strip. */
@customElement('dw-alert-list')
export class DwAlertList extends LitElement {
  static override styles = [base, css`
    :host { display: block; }
    ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 10px; }
    li { padding: 12px; border-radius: 10px; background: var(--raised); border: 1px solid var(--border); }
    li.open, li.update { border-color: rgba(255, 93, 93, 0.45); background: linear-gradient(180deg, rgba(255,93,93,0.08), rgba(255,93,93,0.02)); }
    li.fresh { animation: flash 1.2s ease-out 3; }
    @keyframes flash { 0% { box-shadow: 0 0 0 0 rgba(255,93,93,0.7); } 100% { box-shadow: 0 0 0 12px rgba(255,93,93,0); } }
    .top { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
    .title { font-weight: 600; font-size: 14px; margin: 8px 0 4px; }
    .facts { display: grid; grid-template-columns: auto 1fr; gap: 2px 10px; font-size: 12.5px; }
    .facts dt { color: var(--muted); }
    .facts dd { margin: 0; font-family: var(--mono); }
    .peak { color: var(--red); font-weight: 700; }
    img { display: block; width: 100%; margin-top: 10px; border-radius: 6px; background: #07080b; image-rendering: auto; min-height: 24px; }
    a { color: inherit; }
    .empty { color: var(--muted); font-size: 13.5px; line-height: 1.5; padding: 8px 2px; }
  `];

  @property({ attribute: false }) alerts: AlertWire[] = [];
  @property({ attribute: false }) streams = new Map<string, StreamStatus>();
  @property({ attribute: false }) fresh = new Set<string>();
  /** Evidence images that failed to load (none stored yet): hidden rather than shown broken. */
  @state() private broken = new Set<string>();

  override render() {
    if (this.alerts.length === 0) {
      return html`<p class="empty">No alerts. An alert opens when a face's rolling score stays above the threshold; it shows up here at once.</p>`;
    }
    return html`<ol>${this.alerts.map((a) => this.#item(a))}</ol>`;
  }

  #item(a: AlertWire) {
    const name = this.streams.get(a.stream)?.name ?? a.stream;
    const phase = a.phase === 'close' ? 'closed' : 'open';
    const duration = Math.max(0, a.ptsEnd - a.ptsStart);
    return html`
      <li class="${a.phase} ${this.fresh.has(a.id) ? 'fresh' : ''}" data-alert=${a.id}>
        <div class="top">
          <span class="pill ${a.phase}">${phase}</span>
          <span class="muted mono" title=${new Date(a.wallStart).toString()}>${clock(a.wallStart)}${a.wallEnd ? html` – ${clock(a.wallEnd)}` : nothing}</span>
        </div>
        <div class="title">${name} · face #${a.trackId}</div>
        <dl class="facts">
          <dt>peak</dt><dd class="peak">${score(a.peak)}</dd>
          <dt>mean</dt><dd>${score(a.mean)} <span class="muted">(threshold ${score(a.threshold)})</span></dd>
          <dt>stream time</dt><dd>${pts(a.ptsStart)} – ${pts(a.ptsEnd)} <span class="muted">(${duration.toFixed(1)} s)</span></dd>
          <dt>model</dt><dd>${a.model}</dd>
        </dl>
        ${a.evidenceUrl && !this.broken.has(a.id)
          ? html`<a href=${a.evidenceUrl} target="_blank" rel="noopener" title="Open the evidence image">
              <img src=${a.evidenceUrl} alt="aligned face crops of the alert" loading="lazy" @error=${() => this.#hide(a.id)}></a>`
          : nothing}
      </li>`;
  }

  #hide(id: string): void {
    this.broken = new Set(this.broken).add(id);
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-alert-list': DwAlertList;
  }
}
