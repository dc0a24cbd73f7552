import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { serverCall } from '../server-call.js';
import { base } from '../theme.js';

export type AddPull = (body: { name: string; url: string; key?: string }) => Promise<string | null>;

/** Form to add a pull source; shows the server's own message when it refuses. */
@customElement('dw-add-stream')
export class DwAddStream extends LitElement {
  static override styles = [base, css`
    form { display: flex; flex-direction: column; gap: 10px; }
    label { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
    input {
      font: 14px var(--font); color: var(--text); background: var(--raised); border: 1px solid var(--border);
      border-radius: 8px; padding: 8px 10px; outline: none; width: 100%; min-width: 0;
    }
    input:focus { border-color: var(--accent); }
    .row { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
    .msg { font-size: 13px; line-height: 1.4; padding: 8px 10px; border-radius: 8px; }
    .msg.error { color: #ffc9c9; background: rgba(255, 93, 93, 0.1); border: 1px solid rgba(255, 93, 93, 0.35); }
    .msg.ok { color: #b7f5d8; background: rgba(52, 211, 153, 0.1); border: 1px solid rgba(52, 211, 153, 0.3); }
    .actions { display: flex; justify-content: flex-end; }
  `];

  add: AddPull = async () => 'not connected';
  @state() private error: string | null = null;
  @state() private done: string | null = null;
  @state() private busy = false;

  override render() {
    return html`
      <form @submit=${this.#submit}>
        <label>Source URL<input name="url" required placeholder="rtsp://camera.local/stream1" autocomplete="off"></label>
        <div class="row">
          <label>Name<input name="name" required placeholder="Lobby camera" autocomplete="off"></label>
          <label>Key (optional)<input name="key" placeholder="lobby" pattern="[A-Za-z0-9_\\-]{1,64}" autocomplete="off"></label>
        </div>
        ${this.error ? html`<div class="msg error" role="alert">${this.error}</div>` : nothing}
        ${this.done ? html`<div class="msg ok">${this.done}</div>` : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Adding…' : 'Add stream'}</button></div>
      </form>`;
  }

  #submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const body = { name: String(data.get('name') ?? '').trim(), url: String(data.get('url') ?? '').trim() } as { name: string; url: string; key?: string };
    const key = String(data.get('key') ?? '').trim();
    if (key) body.key = key;
    this.busy = true;
    this.error = null;
    this.done = null;
    this.error = await serverCall(() => this.add(body));
    this.busy = false;
    if (!this.error) {
      this.done = `Added "${body.name}".`;
      form.reset();
    }
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-add-stream': DwAddStream;
  }
}
