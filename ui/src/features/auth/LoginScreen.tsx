import { useId, useState } from 'react';
import { LANGUAGES, useI18n, type Language } from '../../i18n';
import { Icon } from '../../ui/Icon';
import { errorText } from '../../ui/errors';
import { defaultServerUrl, loadServerUrl } from './session';
import { useSession } from './SessionContext';

type Mode = 'signIn' | 'register';

export function LoginScreen() {
  const { t, lang, choice, setChoice } = useI18n();
  const { signIn, signUp, signedOutReason } = useSession();
  const [mode, setMode] = useState<Mode>('signIn');
  const [server, setServer] = useState(loadServerUrl);
  const [editServer, setEditServer] = useState(false);
  const [username, setUsername] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errorId = useId();

  const mismatch = mode === 'register' && confirm.length > 0 && confirm !== password;
  const canSubmit = username.trim() && password && !busy && !(mode === 'register' && (confirm !== password || password.length < 8));

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!canSubmit) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === 'signIn') await signIn(server, username.trim(), password);
      else await signUp(server, username.trim(), password, displayName);
    } catch (err) {
      setError(errorText(t, err));
      setBusy(false);
    }
  };

  let host = server;
  try {
    host = new URL(server).host;
  } catch {
    // Shown as typed.
  }

  return (
    <div className="login">
      <div className="login-lang">
        <Icon name="globe" size={16} />
        <select
          aria-label={t('settings.language')}
          value={choice ?? ''}
          onChange={(e) => setChoice((e.target.value || null) as Language | null)}
        >
          <option value="">{t('settings.languageAuto', { language: LANGUAGES.find((l) => l.id === lang)?.label ?? lang })}</option>
          {LANGUAGES.map((l) => (
            <option key={l.id} value={l.id}>
              {l.label}
            </option>
          ))}
        </select>
      </div>
      <main className="login-card">
        <div className="login-logo" aria-hidden="true">
          <Icon name="chat" size={34} />
        </div>
        <h1>{mode === 'signIn' ? t('auth.signInTitle') : t('auth.registerTitle')}</h1>
        <p className="login-sub">{mode === 'signIn' ? t('auth.signInSubtitle') : t('auth.registerSubtitle')}</p>
        {signedOutReason ? (
          <div className="notice notice-warn" role="alert">
            {signedOutReason === 'expired' ? t('auth.sessionExpired') : t('auth.sessionRevoked')}
          </div>
        ) : null}
        <div className="segmented" role="tablist" aria-label={t('auth.mode')}>
          <button type="button" role="tab" aria-selected={mode === 'signIn'} className={mode === 'signIn' ? 'active' : ''} onClick={() => { setMode('signIn'); setError(null); }}>
            {t('auth.signIn')}
          </button>
          <button type="button" role="tab" aria-selected={mode === 'register'} className={mode === 'register' ? 'active' : ''} onClick={() => { setMode('register'); setError(null); }} data-testid="tab-register">
            {t('auth.register')}
          </button>
        </div>
        <form className="form" onSubmit={submit} aria-describedby={error ? errorId : undefined} noValidate>
          <label className="field">
            <span className="field-label">{t('auth.username')}</span>
            <input
              name="username"
              autoComplete="username"
              autoCapitalize="none"
              spellCheck={false}
              value={username}
              onChange={(e) => setUsername(e.target.value)}
              placeholder={t('auth.usernamePlaceholder')}
              autoFocus
              required
            />
            {mode === 'register' ? <span className="field-hint">{t('auth.usernameHint')}</span> : null}
          </label>
          {mode === 'register' ? (
            <label className="field">
              <span className="field-label">{t('auth.displayName')}</span>
              <input name="display_name" autoComplete="nickname" value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder={t('auth.displayNamePlaceholder')} />
            </label>
          ) : null}
          <label className="field">
            <span className="field-label">{t('auth.password')}</span>
            <input
              name="password"
              type="password"
              autoComplete={mode === 'signIn' ? 'current-password' : 'new-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              required
            />
            {mode === 'register' ? <span className="field-hint">{t('auth.passwordHint')}</span> : null}
          </label>
          {mode === 'register' ? (
            <label className="field">
              <span className="field-label">{t('auth.confirmPassword')}</span>
              <input name="confirm" type="password" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} aria-invalid={mismatch || undefined} />
              {mismatch ? <span className="field-error">{t('auth.passwordMismatch')}</span> : null}
            </label>
          ) : null}
          {error ? (
            <div id={errorId} className="notice notice-error" role="alert">
              {error}
            </div>
          ) : null}
          <button type="submit" className="button primary wide" disabled={!canSubmit} data-testid="auth-submit">
            {busy ? t('common.pleaseWait') : mode === 'signIn' ? t('auth.signIn') : t('auth.createAccount')}
          </button>
        </form>
        <div className="login-server">
          {editServer ? (
            <label className="field">
              <span className="field-label">{t('auth.server')}</span>
              <div className="input-row">
                <input value={server} onChange={(e) => setServer(e.target.value)} placeholder="https://chat.example.com" spellCheck={false} autoCapitalize="none" />
                <button type="button" className="button secondary" onClick={() => setServer(defaultServerUrl())}>
                  {t('auth.serverReset')}
                </button>
              </div>
              <span className="field-hint">{t('auth.serverHint')}</span>
            </label>
          ) : (
            <button type="button" className="link-button" onClick={() => setEditServer(true)}>
              <Icon name="server" size={15} />
              {t('auth.serverLabel', { host })}
              <span className="muted">· {t('common.change')}</span>
            </button>
          )}
        </div>
      </main>
    </div>
  );
}
