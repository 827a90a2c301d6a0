import { useEffect, useState } from 'react';
import type { Device, DirectPolicy } from '../../client';
import { useNavigation } from '../../app/navigation';
import { useServices } from '../../app/services';
import { LANGUAGES, useI18n, type Language, type MessageKey } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon, type IconName } from '../../ui/Icon';
import { useFeedback } from '../../ui/feedback';
import { errorText } from '../../ui/errors';
import { formatDateTime } from '../../ui/format';
import { useSession } from '../auth/SessionContext';
import { usePrefs, type Theme } from './preferences';
import { DesktopSettings } from '../../desktop/DesktopSettings';

const PAGES: Array<{ id: string; icon: IconName; label: MessageKey }> = [
  { id: 'profile', icon: 'user', label: 'settings.profile' },
  { id: 'appearance', icon: 'sun', label: 'settings.appearance' },
  { id: 'notifications', icon: 'bell', label: 'settings.notifications' },
  { id: 'privacy', icon: 'lock', label: 'settings.privacy' },
  { id: 'devices', icon: 'monitor', label: 'settings.devices' },
];

export function SettingsSidebar() {
  const { t } = useI18n();
  const nav = useNavigation();
  const { session, signOut } = useSession();
  const feedback = useFeedback();
  return (
    <div className="sidebar-inner">
      <header className="sidebar-header">
        <h1 className="sidebar-title">{t('nav.settings')}</h1>
      </header>
      <div className="sidebar-scroll">
        {session ? (
          <div className="settings-me">
            <Avatar id={session.user.id} name={session.user.display_name} size={56} />
            <div>
              <div className="contact-name">{session.user.display_name}</div>
              <div className="contact-sub">@{session.user.username}</div>
            </div>
          </div>
        ) : null}
        <ul className="settings-nav">
          {PAGES.map((p) => (
            <li key={p.id}>
              <button
                type="button"
                className={`settings-nav-item${nav.settingsPage === p.id ? ' active' : ''}`}
                aria-current={nav.settingsPage === p.id ? 'page' : undefined}
                onClick={() => nav.setSettingsPage(p.id)}
                data-testid={`settings-${p.id}`}
              >
                <Icon name={p.icon} size={19} />
                <span>{t(p.label)}</span>
                <Icon name="chevronRight" size={16} className="chev" />
              </button>
            </li>
          ))}
          <li>
            <button
              type="button"
              className="settings-nav-item danger"
              data-testid="sign-out"
              onClick={async () => {
                const ok = await feedback.confirm({
                  title: t('settings.signOutTitle'),
                  body: t('settings.signOutBody'),
                  confirmLabel: t('settings.signOut'),
                  cancelLabel: t('common.cancel'),
                  danger: true,
                });
                if (ok) await signOut();
              }}
            >
              <Icon name="logout" size={19} />
              <span>{t('settings.signOut')}</span>
            </button>
          </li>
        </ul>
      </div>
    </div>
  );
}

export function SettingsMain() {
  const nav = useNavigation();
  return (
    <div className="main-scroll">
      <div className="settings-page">
        {nav.settingsPage === 'appearance' ? (
          <AppearancePage />
        ) : nav.settingsPage === 'notifications' ? (
          <NotificationsPage />
        ) : nav.settingsPage === 'privacy' ? (
          <PrivacyPage />
        ) : nav.settingsPage === 'devices' ? (
          <DevicesPage />
        ) : (
          <ProfilePage />
        )}
      </div>
    </div>
  );
}

function ProfilePage() {
  const { t } = useI18n();
  const { client } = useServices();
  const { session, updateUser } = useSession();
  const feedback = useFeedback();
  const [name, setName] = useState(session?.user.display_name ?? '');
  const [status, setStatus] = useState(session?.user.status_text ?? '');
  const [busy, setBusy] = useState(false);
  if (!session) return null;
  const dirty = name.trim() !== session.user.display_name || (status.trim() || null) !== (session.user.status_text || null);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      const u = await client.request('update_profile', { display_name: name.trim(), status_text: status.trim() });
      updateUser(u);
      feedback.toast(t('common.saved'), 'success');
    } catch (err) {
      feedback.toast(errorText(t, err), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <h2 className="page-title">{t('settings.profile')}</h2>
      <div className="card profile-card">
        <Avatar id={session.user.id} name={name || session.user.username} size={80} />
        <form className="form grow" onSubmit={save}>
          <label className="field">
            <span className="field-label">{t('auth.displayName')}</span>
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={64} required />
          </label>
          <label className="field">
            <span className="field-label">{t('settings.statusText')}</span>
            <input value={status} onChange={(e) => setStatus(e.target.value)} maxLength={140} placeholder={t('settings.statusPlaceholder')} />
          </label>
          <div className="field">
            <span className="field-label">{t('auth.username')}</span>
            <span className="readonly-value">@{session.user.username}</span>
          </div>
          <div className="form-actions">
            <button type="submit" className="button primary" disabled={!dirty || !name.trim() || busy}>
              {t('common.save')}
            </button>
          </div>
        </form>
      </div>
      <div className="card subtle">
        <div className="kv">
          <span>{t('settings.server')}</span>
          <code>{session.serverUrl}</code>
        </div>
        <div className="kv">
          <span>{t('settings.serverVersion')}</span>
          <code>{client.connection.hello?.server_version ?? '—'}</code>
        </div>
      </div>
    </>
  );
}

function AppearancePage() {
  const { t, choice, setChoice, lang } = useI18n();
  const { prefs, setPrefs } = usePrefs();
  const themes: Array<{ id: Theme; label: MessageKey; icon: IconName }> = [
    { id: 'system', label: 'settings.themeSystem', icon: 'monitor' },
    { id: 'light', label: 'settings.themeLight', icon: 'sun' },
    { id: 'dark', label: 'settings.themeDark', icon: 'moon' },
  ];
  return (
    <>
      <h2 className="page-title">{t('settings.appearance')}</h2>
      <section className="card">
        <h3>{t('settings.theme')}</h3>
        <div className="choice-grid" role="radiogroup" aria-label={t('settings.theme')}>
          {themes.map((th) => (
            <label key={th.id} className={`choice${prefs.theme === th.id ? ' active' : ''}`} data-testid={`theme-${th.id}`}>
              <input type="radio" name="theme" value={th.id} checked={prefs.theme === th.id} onChange={() => setPrefs({ theme: th.id })} />
              <Icon name={th.icon} size={22} />
              <span>{t(th.label)}</span>
            </label>
          ))}
        </div>
      </section>
      <section className="card">
        <h3>{t('settings.language')}</h3>
        <div className="radio-list" role="radiogroup" aria-label={t('settings.language')}>
          <label className="radio-row">
            <input type="radio" name="lang" checked={choice == null} onChange={() => setChoice(null)} />
            <span>{t('settings.languageAuto', { language: LANGUAGES.find((l) => l.id === lang)?.label ?? lang })}</span>
          </label>
          {LANGUAGES.map((l) => (
            <label key={l.id} className="radio-row">
              <input type="radio" name="lang" checked={choice === l.id} onChange={() => setChoice(l.id as Language)} data-testid={`lang-${l.id}`} />
              <span lang={l.id}>{l.label}</span>
            </label>
          ))}
        </div>
      </section>
    </>
  );
}

function NotificationsPage() {
  const { t } = useI18n();
  const { prefs, setPrefs } = usePrefs();
  const supported = typeof Notification !== 'undefined';
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(supported ? Notification.permission : 'unsupported');
  return (
    <>
      <h2 className="page-title">{t('settings.notifications')}</h2>
      <section className="card">
        <ul className="settings-list">
          <li>
            <label className="settings-row">
              <Icon name="bell" size={18} />
              <span className="settings-row-label">
                {t('settings.desktopNotifications')}
                <span className="settings-row-hint">{t('settings.desktopNotificationsHint')}</span>
              </span>
              <input
                type="checkbox"
                className="switch"
                checked={prefs.notify}
                onChange={async (e) => {
                  const on = e.target.checked;
                  setPrefs({ notify: on });
                  if (on && supported && Notification.permission === 'default') setPermission(await Notification.requestPermission());
                }}
              />
            </label>
          </li>
          <li>
            <label className="settings-row">
              <Icon name="eye" size={18} />
              <span className="settings-row-label">{t('settings.notificationPreview')}</span>
              <input type="checkbox" className="switch" checked={prefs.notifyPreview} disabled={!prefs.notify} onChange={(e) => setPrefs({ notifyPreview: e.target.checked })} />
            </label>
          </li>
          <li>
            <label className="settings-row">
              <Icon name="megaphone" size={18} />
              <span className="settings-row-label">{t('settings.sound')}</span>
              <input type="checkbox" className="switch" checked={prefs.sound} onChange={(e) => setPrefs({ sound: e.target.checked })} />
            </label>
          </li>
        </ul>
        {permission === 'denied' ? <p className="notice notice-warn">{t('settings.notificationsDenied')}</p> : null}
        {permission === 'unsupported' ? <p className="notice">{t('settings.notificationsUnsupported')}</p> : null}
        {permission === 'default' && prefs.notify && supported ? (
          <button type="button" className="button secondary" onClick={async () => setPermission(await Notification.requestPermission())}>
            {t('settings.allowNotifications')}
          </button>
        ) : null}
        <p className="muted small">{t('settings.mutedHint')}</p>
      </section>
      <DesktopSettings />
    </>
  );
}

function PrivacyPage() {
  const { t } = useI18n();
  const { client } = useServices();
  const feedback = useFeedback();
  const nav = useNavigation();
  const [policy, setPolicy] = useState<DirectPolicy | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    client
      .request('get_settings')
      .then((s) => setPolicy(s.direct_messages))
      .catch((e) => setError(errorText(t, e)));
  }, [client, t]);
  const change = async (p: DirectPolicy) => {
    const old = policy;
    setPolicy(p);
    try {
      const s = await client.request('update_settings', { direct_messages: p });
      setPolicy(s.direct_messages);
      feedback.toast(t('common.saved'), 'success');
    } catch (e) {
      setPolicy(old);
      feedback.toast(errorText(t, e), 'error');
    }
  };
  return (
    <>
      <h2 className="page-title">{t('settings.privacy')}</h2>
      <section className="card">
        <h3>{t('settings.whoCanMessage')}</h3>
        {error ? <p className="notice notice-error">{error}</p> : null}
        <div className="radio-list" role="radiogroup" aria-label={t('settings.whoCanMessage')}>
          <label className="radio-row">
            <input type="radio" name="dm" checked={policy === 'friends_only'} disabled={policy == null} onChange={() => void change('friends_only')} />
            <span>{t('settings.dmFriendsOnly')}</span>
          </label>
          <label className="radio-row">
            <input type="radio" name="dm" checked={policy === 'anyone'} disabled={policy == null} onChange={() => void change('anyone')} />
            <span>{t('settings.dmAnyone')}</span>
          </label>
        </div>
      </section>
      <section className="card">
        <button type="button" className="settings-row" onClick={() => nav.setSection('contacts')}>
          <Icon name="ban" size={18} />
          <span className="settings-row-label">{t('settings.blockedUsers')}</span>
          <Icon name="chevronRight" size={16} />
        </button>
      </section>
    </>
  );
}

function DevicesPage() {
  const { t, locale } = useI18n();
  const { client } = useServices();
  const feedback = useFeedback();
  const [devices, setDevices] = useState<Device[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = () =>
    client
      .request('list_devices')
      .then((r) => {
        setDevices(r.devices);
        setError(null);
      })
      .catch((e) => setError(errorText(t, e)));
  useEffect(() => {
    void load();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client]);
  const revoke = async (d: Device) => {
    const ok = await feedback.confirm({
      title: t('settings.revokeTitle'),
      body: t('settings.revokeBody', { name: d.name }),
      confirmLabel: t('settings.revoke'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await client.request('revoke_device', { device_id: d.id });
      await load();
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };
  const sorted = devices ? [...devices].sort((a, b) => Number(b.current) - Number(a.current) || b.last_used_at - a.last_used_at) : null;
  return (
    <>
      <h2 className="page-title">{t('settings.devices')}</h2>
      <p className="muted">{t('settings.devicesHint')}</p>
      {error ? <p className="notice notice-error">{error}</p> : null}
      {sorted == null && !error ? <span className="spinner" aria-label={t('common.loading')} /> : null}
      {sorted ? (
        <ul className="card device-list" data-testid="device-list">
          {sorted.map((d) => (
            <li key={d.id} className="device">
              <span className="device-icon">
                <Icon name="monitor" size={22} />
              </span>
              <span className="contact-body">
                <span className="contact-name">
                  {d.name || t('settings.unnamedDevice')}
                  {d.current ? <span className="role-badge admin">{t('settings.thisDevice')}</span> : null}
                </span>
                <span className="contact-sub">
                  {t('settings.lastActive', { time: formatDateTime(d.last_used_at, locale) })} · {t('settings.signedIn', { time: formatDateTime(d.created_at, locale) })}
                </span>
              </span>
              {!d.current ? (
                <button type="button" className="button secondary small danger-text" onClick={() => void revoke(d)}>
                  {t('settings.revoke')}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
