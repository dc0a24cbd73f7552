import { css } from 'lit';

/** Colours of the dashboard; the same meaning everywhere (red = fake / alert, green = real). */
export const colours = {
  fake: '#ff5d5d',
  real: '#34d399',
  pending: '#a1a8b8',
  accent: '#5b9cff',
  warn: '#f5b342',
  grid: 'rgba(255,255,255,0.08)',
  text: '#e7eaf0',
  muted: '#98a1b3',
} as const;

export function verdictColour(v: 'fake' | 'real' | 'pending'): string {
  return colours[v];
}

/** Shared element styles; custom properties come from index.html so the page and components agree. */
export const base = css`
  :host { color: var(--text); font-family: var(--font); }
  * { box-sizing: border-box; }
  .muted { color: var(--muted); }
  .mono { font-family: var(--mono); font-variant-numeric: tabular-nums; }
  .pill {
    display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
    font-size: 12px; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; white-space: nowrap;
    border: 1px solid transparent;
  }
  .pill::before { content: ''; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
  .pill.live { color: var(--green); background: rgba(52, 211, 153, 0.12); border-color: rgba(52, 211, 153, 0.3); }
  .pill.waiting, .pill.reconnecting { color: var(--amber); background: rgba(245, 179, 66, 0.12); border-color: rgba(245, 179, 66, 0.3); }
  .pill.stalled { color: var(--amber); background: rgba(245, 179, 66, 0.12); border-color: rgba(245, 179, 66, 0.3); }
  .pill.ended { color: var(--muted); background: rgba(152, 161, 179, 0.12); border-color: rgba(152, 161, 179, 0.25); }
  .pill.failed, .pill.open, .pill.update, .pill.fake { color: var(--red); background: rgba(255, 93, 93, 0.12); border-color: rgba(255, 93, 93, 0.35); }
  .pill.close { color: var(--muted); background: rgba(152, 161, 179, 0.12); border-color: rgba(152, 161, 179, 0.25); }
  .pill.real { color: var(--green); background: rgba(52, 211, 153, 0.12); border-color: rgba(52, 211, 153, 0.3); }
  .pill.pending { color: var(--muted); background: rgba(152, 161, 179, 0.1); border-color: rgba(152, 161, 179, 0.2); }
  .panel { background: var(--panel); border: 1px solid var(--border); border-radius: 12px; }
  button {
    font: inherit; font-size: 13px; color: var(--text); background: var(--raised); border: 1px solid var(--border);
    border-radius: 8px; padding: 7px 14px; cursor: pointer;
  }
  button:hover { border-color: var(--accent); }
  button:disabled { opacity: 0.5; cursor: default; }
  button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
`;
