import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { DashboardStore } from '../store.js';
import { base } from '../theme.js';
import { uptime } from '../format.js';
import './dw-stream-card.js';
import './dw-alert-list.js';
import './dw-add-stream.js';
import './dw-sign-in.js';

/** The page: header with service status, the streams, and a side column with alerts and the add form. */
@customElement('dw-app')
export class DwApp extends LitElement {
  static override styles = [base, css`
    :host { display: block; min-height: 100vh; }
    .top {
      position: sticky; top: 0; z-index: 5; display: flex; align-items: center; gap: 18px; padding: 12px 24px;
      background: rgba(13, 15, 20, 0.92); backdrop-filter: blur(8px); border-bottom: 1px solid var(--border);
    }
    .brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 18px; letter-spacing: 0.01em; }
    .logo { width: 26px; height: 26px; border-radius: 7px; background: conic-gradient(from 200deg, var(--accent), #9b7bff, var(--accent)); display: grid; place-items: center; }
    .logo::after { content: ''; width: 10px; height: 10px; border-radius: 50%; background: #0d0f14; box-shadow: 0 0 0 3px rgba(255,255,255,0.85); }
    .facts { display: flex; gap: 18px; font-size: 13px; color: var(--muted); flex-wrap: wrap; }
    .facts b { color: var(--text); font-weight: 600; }
    .facts .alarm b { color: var(--red); }
    .spacer { flex: 1; }
    .conn.connected { color: var(--green); }
    .conn.connecting { color: var(--amber); }
    .conn.disconnected { color: var(--red); }
    .layout { display: grid; grid-template-columns: minmax(0, 1fr) 380px; gap: 20px; padding: 20px 24px 40px; align-items: start; }
    @media (max-width: 1100px) { .layout { grid-template-columns: 1fr; } }
    .streams { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 440px), 1fr)); gap: 20px; }
    aside { display: flex; flex-direction: column; gap: 20px; position: sticky; top: 76px; max-height: calc(100vh - 96px); }
    aside .panel { padding: 16px; }
    aside .alerts { overflow: auto; min-height: 120px; }
    h3 { margin: 0 0 12px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.08em; color: var(--muted); display: flex; justify-content: space-between; }
    .count { color: var(--text); }
    .offline {
      margin: 16px 24px 0; padding: 12px 14px; border-radius: 10px; font-size: 14px;
      background: rgba(255, 93, 93, 0.1); border: 1px solid rgba(255, 93, 93, 0.35); color: #ffc9c9;
    }
    .empty { padding: 36px 32px; line-height: 1.6; }
    .empty h2 { margin: 0 0 8px; font-size: 20px; }
    .empty code { font-family: var(--mono); font-size: 13px; background: var(--raised); padding: 2px 6px; border-radius: 5px; color: var(--text); }
    .empty ul { margin: 10px 0 0; padding-left: 20px; color: var(--muted); }
  `];

  @property({ attribute: false }) store = new DashboardStore();
  #onChange = () => this.requestUpdate();

  override connectedCallback(): void {
    super.connectedCallback();
    this.store.addEventListener('change', this.#onChange);
    this.store.start();
    void this.store.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.store.removeEventListener('change', this.#onChange);
    this.store.stop();
  }

  override render() {
    const st = this.store;
    const streams = st.sortedStreams();
    const live = streams.filter((s) => s.state === 'live').length;
    const open = st.openAlertCount();
    const h = st.health;
    const threshold = h?.model?.threshold ?? null;
    if (st.needsToken) {
      return html`
        <header class="top"><div class="brand"><span class="logo" aria-hidden="true"></span>Deepwatch</div></header>
        <dw-sign-in .signIn=${(token: string) => st.signIn(token)}></dw-sign-in>`;
    }
    return html`
      <header class="top">
        <div class="brand"><span class="logo" aria-hidden="true"></span>Deepwatch</div>
        <div class="facts">
          <span>model <b>${h?.model ? `${h.model.name} (${h.model.provider})` : 'not loaded'}</b></span>
          <span><b>${streams.length}</b> streams · <b>${live}</b> live</span>
          <span class=${open > 0 ? 'alarm' : ''}><b data-role="open-alerts">${open}</b> open alert${open === 1 ? '' : 's'}</span>
          ${h ? html`<span>up <b>${uptime(h.uptimeSeconds)}</b></span>` : nothing}
        </div>
        <span class="spacer"></span>
        <span class="pill conn ${st.connection}" data-role="connection">${st.connection}</span>
        ${st.authRequired ? html`<button data-role="sign-out" @click=${() => void st.signOut()}>Sign out</button>` : nothing}
      </header>
      ${st.connection === 'disconnected'
        ? html`<div class="offline" role="alert">Lost contact with the server${st.error ? html` (${st.error})` : nothing}. Retrying; what is shown may be out of date.</div>`
        : nothing}
      <div class="layout">
        <main class="streams" @remove-stream=${this.#remove}>
          ${streams.length === 0 ? this.#empty() : streams.map((s) => html`
            <dw-stream-card
              .stream=${s}
              .tracks=${[...(st.tracks.get(s.key)?.values() ?? [])].sort((a, b) => a.trackId - b.trackId)}
              .scores=${st.scores.get(s.key) ?? new Map()}
              .preview=${st.previews.get(s.key)}
              .threshold=${threshold}
            ></dw-stream-card>`)}
        </main>
        <aside>
          <section class="panel alerts" aria-label="alerts">
            <h3>Alerts <span class="count">${open > 0 ? `${open} open` : ''}</span></h3>
            <dw-alert-list .alerts=${st.sortedAlerts()} .streams=${st.streams} .fresh=${new Set(st.fresh)}></dw-alert-list>
          </section>
          <section class="panel" aria-label="add a stream">
            <h3>Add a pull source</h3>
            <dw-add-stream .add=${(b: { name: string; url: string; key?: string }) => st.addPull(b)}></dw-add-stream>
          </section>
        </aside>
      </div>`;
  }

  #empty() {
    const host = location.hostname || 'localhost';
    return html`
      <section class="panel empty">
        <h2>No streams yet</h2>
        <div class="muted">Deepwatch is running and waiting for video. Send it a stream:</div>
        <ul>
          <li>publish from OBS or ffmpeg to <code>rtmp://${host}:1935/live/&lt;stream-key&gt;</code></li>
          <li>publish over WebRTC (WHIP) to <code>${location.origin}/whip/&lt;stream-key&gt;</code></li>
          <li>or add a camera or file URL with the form on the right</li>
        </ul>
      </section>`;
  }

  #remove = async (e: CustomEvent<string>) => {
    const error = await this.store.remove(e.detail);
    if (error) alert(`Could not remove the stream: ${error}`);
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-app': DwApp;
  }
}
