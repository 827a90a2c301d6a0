import { useEffect, useState } from 'react';
import { useI18n } from '../i18n';
import { Icon } from '../ui/Icon';
import { useChat, useConnectionState, useServices } from './services';

/** A thin bar that says when the connection is down, and when the next attempt is. */
export function ConnectionBanner() {
  const { t } = useI18n();
  const { client } = useServices();
  const state = useConnectionState();
  const synced = useChat((s) => s.synced);
  const [now, setNow] = useState(() => Date.now());
  const [online, setOnline] = useState(() => (typeof navigator === 'undefined' ? true : navigator.onLine));
  const [grace, setGrace] = useState(true);

  useEffect(() => {
    const timer = setTimeout(() => setGrace(false), 1200);
    return () => clearTimeout(timer);
  }, []);
  useEffect(() => {
    const on = () => {
      setOnline(true);
      client.connection.retryNow();
    };
    const off = () => setOnline(false);
    window.addEventListener('online', on);
    window.addEventListener('offline', off);
    return () => {
      window.removeEventListener('online', on);
      window.removeEventListener('offline', off);
    };
  }, [client]);
  useEffect(() => {
    if (state.status !== 'waiting') return;
    const timer = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(timer);
  }, [state.status]);

  let text: string | null = null;
  let tone: 'warn' | 'info' = 'info';
  let retry = false;
  if (!online) {
    text = t('connection.offline');
    tone = 'warn';
  } else if (state.status === 'waiting') {
    const secs = Math.max(0, Math.ceil(((state.nextRetryAt ?? now) - now) / 1000));
    text = state.everConnected ? t('connection.lostRetrying', { seconds: secs }) : t('connection.cannotReach', { seconds: secs });
    tone = 'warn';
    retry = true;
  } else if (state.status === 'connecting') {
    text = state.everConnected ? t('connection.reconnecting') : grace ? null : t('connection.connecting');
  } else if (state.status === 'connected' && !synced && !grace) {
    text = t('connection.updating');
  }
  if (!text) return null;
  return (
    <div className={`connection-banner ${tone}`} role="status" aria-live="polite" data-testid="connection-banner" data-status={state.status}>
      {tone === 'warn' ? <Icon name="wifiOff" size={16} /> : <span className="spinner small" aria-hidden="true" />}
      <span>{text}</span>
      {retry ? (
        <button type="button" className="link-button" onClick={() => client.connection.retryNow()}>
          {t('connection.retryNow')}
        </button>
      ) : null}
    </div>
  );
}
