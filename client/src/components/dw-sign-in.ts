import { LitElement, css, html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { serverCall } from '../server-call.js';
import { base } from '../theme.js';

export type SignIn = (token: string) => Promise<string | null>;

/** The access-token form a locked server (server.accessTokens) shows instead of the dashboard. */
@customElement('dw-sign-in')
export class DwSignIn extends LitElement {
  static override styles = [base, css`
    :host { display: grid; place-items: center; padding: 12vh 24px; }
    .panel { width: min(100%, 420px); padding: 28px; display: flex; flex-direction: column; gap: 14px; }
    h2 { margin: 0; font-size: 20px; }
    p { margin: 0; color: var(--muted); font-size: 14px; line-height: 1.5; }
    code { font-family: var(--mono); font-size: 13px; }
    input {
      font: 14px var(--mono); color: var(--text); background: var(--raised); border: 1px solid var(--border);
      border-radius: 8px; padding: 9px 10px; outline: none; width: 100%;
    }
    input:focus { border-color: var(--accent); }
    .msg { font-size: 13px; padding: 8px 10px; border-radius: 8px; color: #ffc9c9; background: rgba(255, 93, 93, 0.1); border: 1px solid rgba(255, 93, 93, 0.35); }
    .actions { display: flex; justify-content: flex-end; }
  `];

  signIn: SignIn = async () => 'not connected';
  @state() private error: string | null = null;
  @state() private busy = false;

  override render() {
    return html`
      <form class="panel" @submit=${this.#submit} aria-label="sign in">
        <h2>Access token</h2>
        <p>This Deepwatch server is locked. Paste one of its access tokens (<code>server.accessTokens</code>); this browser then stays signed in for 30 days.</p>
        <input name="token" type="password" required autocomplete="current-password" aria-label="access token" placeholder="token">
        ${this.error ? html`<div class="msg" role="alert">${this.error}</div>` : nothing}
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Checking…' : 'Sign in'}</button></div>
      </form>`;
  }

  #submit = async (e: SubmitEvent) => {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget as HTMLFormElement).get('token') ?? '').trim();
    this.busy = true;
    this.error = null;
    this.error = await serverCall(() => this.signIn(token));
    this.busy = false;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'dw-sign-in': DwSignIn;
  }
}
