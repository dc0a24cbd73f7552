import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { ClipScore, StreamStatus, TrackUpdate } from '../../../server/api/wire.js';
import type { Preview } from '../store.js';
import { base } from '../theme.js';
import { ago, count, score, seconds } from '../format.js';
import './dw-preview.js';
import './dw-score-chart.js';

const KIND_LABEL: Record<StreamStatus['kind'], string> = { rtmp: 'RTMP', whip: 'WebRTC', pull: 'Pull', demo: 'Demo' };

/** One stream: state, counters, live preview, and a row per tracked face with its score chart. */
@customElement('dw-stream-card')
export class DwStreamCard extends LitElement {
  static override styles = [base, css`
    :host { display: block; }
    .card { padding: 16px; display: flex; flex-direction: column; gap: 14px; height: 100%; }
    .card.failed { border-color: rgba(255, 93, 93, 0.45); }
    header { display: flex; align-items: flex-start; justify-content: space-between; gap: 12px; }
    h2 { margin: 0; font-size: 17px; font-weight: 650; line-height: 1.25; }
    .sub { margin-top: 3px; font-size: 12.5px; }
    .right { display: flex; align-items: center; gap: 8px; }
    .remove { padding: 3px 9px; font-size: 12px; color: var(--muted); background: transparent; }
    .banner {
      padding: 10px 12px; border-radius: 8px; font-size: 13.5px; line-height: 1.4;
      background: rgba(255, 93, 93, 0.1); border: 1px solid rgba(255, 93, 93, 0.35); color: #ffc9c9;
    }
    .banner.warn { background: rgba(245, 179, 66, 0.1); border-color: rgba(245, 179, 66, 0.35); color: #ffe2b0; }
    .banner b { color: #fff; }
    .stats { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
    .stat { background: var(--raised); border-radius: 8px; padding: 8px 10px; min-width: 0; }
    .stat .k { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
    .stat .v { font: 600 15px var(--mono); margin-top: 2px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .stat .v.bad { color: var(--amber); }
    .tracks { display: flex; flex-direction: column; gap: 10px; }
    .track { display: grid; grid-template-columns: 112px 1fr; gap: 12px; align-items: center;
      background: var(--raised); border-radius: 8px; padding: 10px 12px; border-left: 3px solid var(--muted); }
    .track.fake { border-left-color: var(--red); }
    .track.real { border-left-color: var(--green); }
    .who { font-size: 13px; font-weight: 600; }
    .big { font: 700 26px var(--mono); line-height: 1.15; margin: 2px 0 4px; }
    .big.fake { color: var(--red); }
    .big.real { color: var(--green); }
    .none { font-size: 13px; color: var(--muted); padding: 6px 2px; }
  `];

  @property({ attribute: false }) stream!: StreamStatus;
  @property({ attribute: false }) tracks: TrackUpdate[] = [];
  @property({ attribute: false }) scores: Map<number, ClipScore[]> = new Map();
  @property({ attribute: false }) preview: Preview | undefined;
  @property({ type: Number }) threshold: number | null = null;

  override render() {
    const s = this.stream;
    const video = [s.width && s.height ? `${s.width}×${s.height}` : null, s.fps !== null ? `${s.fps.toFixed(1)} fps` : null]
      .filter(Boolean).join(' ');
    return html`
      <article class="panel card ${s.state}" data-stream=${s.key}>
        <header>
          <div>
            <h2>${s.name}</h2>
            <div class="sub muted"><span class="mono">${s.key}</span> · ${KIND_LABEL[s.kind]}${video ? ` · ${video}` : ''} · since ${ago(s.since)}</div>
          </div>
          <div class="right">
            <span class="pill ${s.state}" data-role="state">${s.state}</span>
            ${s.kind === 'pull' ? html`<button class="remove" title="Stop pulling and remove" @click=${this.#remove}>Remove</button>` : nothing}
          </div>
        </header>
        ${this.#banner()}
        <dw-preview .preview=${this.preview} .tracks=${this.tracks} state=${s.state}></dw-preview>
        <div class="stats">
          ${this.#stat('Decoded', count(s.framesDecoded), 'frames decoded')}
          ${this.#stat('Analysed', count(s.framesAnalysed), 'frames through face detection')}
          ${this.#stat('Dropped', count(s.framesDropped), 'frames dropped before analysis', s.framesDropped > 0)}
          ${this.#stat('Lag', seconds(s.lagSeconds), 'median time from a frame to its clip\'s score', (s.lagSeconds ?? 0) > 2)}
          ${this.#stat('Clips', count(s.clipsScored), 'clips scored by the model')}
          ${this.#stat('Skipped', count(s.clipsSkipped), 'clips skipped under load', s.clipsSkipped > 0)}
          ${this.#stat('Faces', String(s.activeTracks), 'faces tracked now')}
          ${this.#stat('Alerts', String(s.openAlerts), 'alerts open now', s.openAlerts > 0)}
        </div>
        <section class="tracks" aria-label="tracked faces">
          ${this.tracks.length === 0
            ? html`<div class="none">${s.state === 'live' ? 'No face in view.' : 'No faces tracked.'}</div>`
            : this.tracks.map((t) => this.#track(t))}
        </section>
      </article>`;
  }

  #banner() {
    const s = this.stream;
    if (s.state === 'failed') return html`<div class="banner" role="alert"><b>stream failed:</b> ${s.reason ?? 'no reason given'}</div>`;
    if (s.state === 'stalled' || s.state === 'reconnecting' || s.state === 'ended') {
      return html`<div class="banner warn"><b>stream ${s.state}</b>${s.reason ? html`: ${s.reason}` : nothing}</div>`;
    }
    return nothing;
  }

  #stat(k: string, v: string, help: string, bad = false) {
    return html`<div class="stat" title=${help}><div class="k">${k}</div><div class="v ${bad ? 'bad' : ''}">${v}</div></div>`;
  }

  #track(t: TrackUpdate) {
    const list = this.scores.get(t.trackId) ?? [];
    return html`
      <div class="track ${t.verdict}" data-track=${t.trackId}>
        <div>
          <div class="who">Face #${t.trackId}</div>
          <div class="big ${t.verdict}" data-role="score">${score(t.score)}</div>
          <span class="pill ${t.verdict}">${t.verdict}</span>
        </div>
        <dw-score-chart .scores=${list.slice()} .threshold=${this.threshold}></dw-score-chart>
      </div>`;
  }

  #remove = () => {
    if (!confirm(`Stop pulling "${this.stream.name}" and remove it?`)) return;
    this.dispatchEvent(new CustomEvent('remove-stream', { detail: this.stream.key, bubbles: true, composed: true }));
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-stream-card': DwStreamCard;
  }
}
