// The desktop app's own settings (server, close to tray, shortcut), for the settings page and
// the first start. Renders nothing outside the desktop app.

import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { getSettings, setSettings, type CommandError, type DesktopSettings as Values } from './bridge';
import { isDesktop } from './ipc';
import { desktopText } from './strings';

function message(e: unknown): string {
  return (e as CommandError)?.message ?? String(e);
}

export function DesktopSettings() {
  const { lang } = useI18n();
  const s = desktopText(lang);
  const [values, setValues] = useState<Values | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (isDesktop()) getSettings().then((v) => setValues(v.settings), (e) => setError(message(e)));
  }, []);
  if (!isDesktop() || !values) return null;

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const r = await setSettings(values);
      setValues(r.settings);
      setStatus(r.restarting ? s.restarting : s.saved);
    } catch (err) {
      setError(message(err));
    }
  };

  return (
    <form className="form" onSubmit={save} data-testid="desktop-settings">
      <h3>{s.desktop}</h3>
      <label className="field">
        <span className="field-label">{s.server}</span>
        <input name="desktop_server" value={values.server_url} spellCheck={false} autoCapitalize="none" onChange={(e) => setValues({ ...values, server_url: e.target.value })} />
      </label>
      <label className="field">
        <span>
          <input type="checkbox" checked={values.close_to_tray} onChange={(e) => setValues({ ...values, close_to_tray: e.target.checked })} /> {s.closeToTray}
        </span>
      </label>
      <label className="field">
        <span className="field-label">{s.shortcut}</span>
        <input name="desktop_shortcut" value={values.show_shortcut} spellCheck={false} onChange={(e) => setValues({ ...values, show_shortcut: e.target.value })} />
        <span className="field-hint">{s.shortcutHint}</span>
      </label>
      {error ? <div className="notice notice-error" role="alert">{error}</div> : null}
      {status ? <div className="notice" role="status">{status}</div> : null}
      <button type="submit" className="button primary">{s.save}</button>
    </form>
  );
}

/** The first start: choose the server (default http://127.0.0.1:8080), then continue. */
export function FirstRun({ initial, onDone }: { initial: string; onDone(): void }) {
  const { lang } = useI18n();
  const s = desktopText(lang);
  const [server, setServer] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await setSettings({ server_url: server });
      if (!r.restarting) onDone();
    } catch (err) {
      setError(message(err));
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <main className="login-card" data-testid="desktop-first-run">
        <h1>{s.firstRunTitle}</h1>
        <p className="login-sub">{s.firstRunBody}</p>
        <form className="form" onSubmit={submit} noValidate>
          <label className="field">
            <span className="field-label">{s.server}</span>
            <input name="server" value={server} onChange={(e) => setServer(e.target.value)} spellCheck={false} autoCapitalize="none" autoFocus />
          </label>
          {error ? <div className="notice notice-error" role="alert">{error}</div> : null}
          <button type="submit" className="button primary wide" disabled={busy || !server.trim()} data-testid="desktop-first-run-submit">
            {busy ? s.restarting : s.continue}
          </button>
        </form>
      </main>
    </div>
  );
}
