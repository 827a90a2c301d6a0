import { useEffect, useMemo, useState } from 'react';
import type { FriendRequest, UserPublic } from '../../client';
import { useNavigation } from '../../app/navigation';
import { useContacts, usePeople, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { Modal } from '../../ui/Modal';
import { useFeedback } from '../../ui/feedback';
import { errorCodeText, errorText } from '../../ui/errors';
import { formatListTime } from '../../ui/format';

export function ContactsSidebar() {
  const { t } = useI18n();
  const contacts = useContacts();
  const nav = useNavigation();
  const feedback = useFeedback();
  const [query, setQuery] = useState('');
  const [adding, setAdding] = useState(false);
  const [showBlocked, setShowBlocked] = useState(false);
  const snap = contacts.snapshot;
  const q = query.trim().toLowerCase();
  const friends = useMemo(
    () => (q ? snap.friends.filter((f) => [f.remark, f.user.display_name, f.user.username].filter(Boolean).join('\n').toLowerCase().includes(q)) : snap.friends),
    [snap.friends, q],
  );

  useEffect(() => {
    if (!snap.loaded) void contacts.refresh();
  }, [contacts, snap.loaded]);

  const act = async (fn: () => Promise<void>, done?: string) => {
    try {
      await fn();
      if (done) feedback.toast(done, 'success');
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };

  return (
    <div className="sidebar-inner">
      <header className="sidebar-header">
        <h1 className="sidebar-title">{t('nav.contacts')}</h1>
        <button type="button" className="icon-button" onClick={() => setAdding(true)} aria-label={t('contacts.add')} title={t('contacts.add')} data-testid="add-contact">
          <Icon name="userPlus" />
        </button>
      </header>
      <div className="search">
        <Icon name="search" size={17} />
        <input type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('contacts.search')} aria-label={t('contacts.search')} />
      </div>
      <div className="sidebar-scroll">
        {snap.error ? (
          <div className="notice notice-error inset" role="alert">
            {errorCodeText(t, snap.error)}{' '}
            <button type="button" className="link-button" onClick={() => void contacts.refresh()}>
              {t('common.retry')}
            </button>
          </div>
        ) : null}
        {snap.incoming.length ? (
          <section aria-labelledby="req-in">
            <h2 className="list-section" id="req-in">
              {t('contacts.incoming')} <span className="badge">{snap.incoming.length}</span>
            </h2>
            <ul className="contact-list">
              {snap.incoming.map((r) => (
                <RequestItem
                  key={r.from.id}
                  request={r}
                  user={r.from}
                  onAccept={() => act(() => contacts.accept(r.from.id), t('contacts.accepted'))}
                  onDecline={() => act(() => contacts.decline(r.from.id))}
                />
              ))}
            </ul>
          </section>
        ) : null}
        {snap.outgoing.length ? (
          <section aria-labelledby="req-out">
            <h2 className="list-section" id="req-out">
              {t('contacts.outgoing')}
            </h2>
            <ul className="contact-list">
              {snap.outgoing.map((r) => (
                <RequestItem key={r.to.id} request={r} user={r.to} />
              ))}
            </ul>
          </section>
        ) : null}
        <section aria-labelledby="friends-h">
          <h2 className="list-section" id="friends-h">
            {t('contacts.friends')} {snap.friends.length ? <span className="muted">{snap.friends.length}</span> : null}
          </h2>
          {snap.loaded && friends.length === 0 ? (
            <div className="empty-list small">
              <p>{q ? t('chats.noResults') : t('contacts.noFriends')}</p>
              {!q ? (
                <button type="button" className="button secondary" onClick={() => setAdding(true)}>
                  <Icon name="userPlus" size={16} /> {t('contacts.add')}
                </button>
              ) : null}
            </div>
          ) : (
            <ul className="contact-list" data-testid="friend-list">
              {friends.map((f) => (
                <li key={f.user.id}>
                  <button
                    type="button"
                    className={`contact-item${nav.contact === f.user.id ? ' active' : ''}`}
                    onClick={() => nav.setContact(f.user.id)}
                    onDoubleClick={() => nav.openChat({ user: f.user.id })}
                    data-testid="friend"
                  >
                    <Avatar id={f.user.id} name={f.remark || f.user.display_name} size={40} />
                    <span className="contact-body">
                      <span className="contact-name">{f.remark || f.user.display_name}</span>
                      <span className="contact-sub">{f.remark ? `${f.user.display_name} · @${f.user.username}` : `@${f.user.username}`}</span>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
        {snap.blocked.length ? (
          <section>
            <button type="button" className="list-section toggle" aria-expanded={showBlocked} onClick={() => setShowBlocked((v) => !v)}>
              <Icon name={showBlocked ? 'arrowDown' : 'chevronRight'} size={14} />
              {t('contacts.blocked')} <span className="muted">{snap.blocked.length}</span>
            </button>
            {showBlocked ? (
              <ul className="contact-list">
                {snap.blocked.map((u) => (
                  <li key={u.id} className="contact-item static">
                    <Avatar id={u.id} name={u.display_name} size={40} />
                    <span className="contact-body">
                      <span className="contact-name">{u.display_name}</span>
                      <span className="contact-sub">@{u.username}</span>
                    </span>
                    <button type="button" className="button secondary small" onClick={() => act(() => contacts.unblock(u.id))}>
                      {t('contacts.unblock')}
                    </button>
                  </li>
                ))}
              </ul>
            ) : null}
          </section>
        ) : null}
      </div>
      {adding ? <AddContactDialog onClose={() => setAdding(false)} /> : null}
    </div>
  );
}

function RequestItem({ request, user, onAccept, onDecline }: { request: FriendRequest; user: UserPublic; onAccept?: () => void; onDecline?: () => void }) {
  const { t, locale } = useI18n();
  return (
    <li className="request-item" data-testid={onAccept ? 'incoming-request' : 'outgoing-request'}>
      <Avatar id={user.id} name={user.display_name} size={40} />
      <span className="contact-body">
        <span className="contact-name">
          {user.display_name} <span className="muted">@{user.username}</span>
        </span>
        {request.note ? <span className="request-note">“{request.note}”</span> : null}
        <span className="contact-sub">{onAccept ? formatListTime(request.created_at, locale) : t('contacts.waiting')}</span>
        {onAccept ? (
          <span className="request-actions">
            <button type="button" className="button primary small" onClick={onAccept} data-testid="accept-request">
              {t('contacts.accept')}
            </button>
            <button type="button" className="button secondary small" onClick={onDecline}>
              {t('contacts.decline')}
            </button>
          </span>
        ) : null}
      </span>
    </li>
  );
}

/** Find people with `search_users` and send them a friend request. */
export function AddContactDialog({ onClose }: { onClose: () => void }) {
  const { t } = useI18n();
  const { client } = useServices();
  const contacts = useContacts();
  const people = usePeople();
  const nav = useNavigation();
  const feedback = useFeedback();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<UserPublic[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState<number | null>(null);

  useEffect(() => {
    const q = query.trim();
    if (!q) {
      setResults(null);
      return;
    }
    let alive = true;
    const timer = setTimeout(() => {
      client
        .request('search_users', { query: q, limit: 20 })
        .then((r) => {
          if (!alive) return;
          people.addUsers(r.users);
          setResults(r.users.filter((u) => u.id !== client.me));
          setError(null);
        })
        .catch((e) => alive && setError(errorText(t, e)));
    }, 250);
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [query, client, people, t]);

  const snap = contacts.snapshot;
  const request = async (u: UserPublic) => {
    setBusy(u.id);
    try {
      await contacts.sendRequest(u.id, note.trim() || undefined);
      feedback.toast(t('contacts.requestSent', { name: u.display_name }), 'success');
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    } finally {
      setBusy(null);
    }
  };

  return (
    <Modal title={t('contacts.add')} onClose={onClose} closeLabel={t('common.close')} width={460}>
      <div className="form">
        <label className="field">
          <span className="field-label">{t('contacts.searchPeople')}</span>
          <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder={t('contacts.searchPeoplePlaceholder')} autoFocus data-testid="user-search" />
        </label>
        <label className="field">
          <span className="field-label">{t('contacts.note')}</span>
          <input value={note} onChange={(e) => setNote(e.target.value)} maxLength={200} placeholder={t('contacts.notePlaceholder')} />
        </label>
        {error ? (
          <div className="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        {results && results.length === 0 ? <p className="muted center">{t('contacts.noUsers')}</p> : null}
        {results?.length ? (
          <ul className="people-list" data-testid="user-results">
            {results.map((u) => {
              const friend = snap.friends.some((f) => f.user.id === u.id);
              const sent = snap.outgoing.some((r) => r.to.id === u.id);
              const incoming = snap.incoming.some((r) => r.from.id === u.id);
              return (
                <li key={u.id} className="person">
                  <Avatar id={u.id} name={u.display_name} size={36} />
                  <span className="contact-body">
                    <span className="contact-name">{u.display_name}</span>
                    <span className="contact-sub">@{u.username}</span>
                  </span>
                  {friend ? (
                    <button
                      type="button"
                      className="button secondary small"
                      onClick={() => {
                        onClose();
                        nav.openChat({ user: u.id });
                      }}
                    >
                      {t('contacts.message')}
                    </button>
                  ) : incoming ? (
                    <button type="button" className="button primary small" onClick={() => void contacts.accept(u.id).catch((e) => feedback.toast(errorText(t, e), 'error'))}>
                      {t('contacts.accept')}
                    </button>
                  ) : sent ? (
                    <span className="muted small">{t('contacts.requested')}</span>
                  ) : (
                    <button type="button" className="button primary small" disabled={busy === u.id} onClick={() => void request(u)} data-testid="send-request">
                      {t('contacts.addFriend')}
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        ) : null}
      </div>
    </Modal>
  );
}

/** A person's card: in the contacts section, and as the side panel of a direct chat. */
export function ContactProfile({ userId, onClose }: { userId: number; onClose?: () => void }) {
  const { t, locale } = useI18n();
  const contacts = useContacts();
  const people = usePeople();
  const nav = useNavigation();
  const feedback = useFeedback();
  const { client } = useServices();
  const user = people.user(userId);
  const friend = contacts.snapshot.friends.find((f) => f.user.id === userId);
  const blocked = contacts.isBlocked(userId);
  const name = people.name(userId);
  const directId = client.directWith(userId);
  const [muted, setMuted] = useState<boolean | null>(null);
  const directMuted = directId != null ? (muted ?? client.getState().conversations[directId]?.summary.muted ?? false) : false;

  const act = async (fn: () => Promise<void>, done?: string) => {
    try {
      await fn();
      if (done) feedback.toast(done, 'success');
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
    }
  };

  const editRemark = async () => {
    const v = await feedback.prompt({
      title: t('contacts.editRemark'),
      label: t('contacts.remark'),
      initial: friend?.remark ?? '',
      placeholder: user?.display_name,
      confirmLabel: t('common.save'),
      cancelLabel: t('common.cancel'),
      allowEmpty: true,
      maxLength: 64,
    });
    if (v == null) return;
    await act(() => contacts.setRemark(userId, v), t('common.saved'));
  };

  const remove = async () => {
    const ok = await feedback.confirm({
      title: t('contacts.deleteTitle'),
      body: t('contacts.deleteBody', { name }),
      confirmLabel: t('common.delete'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (ok) await act(() => contacts.remove(userId));
  };

  const block = async () => {
    const ok = await feedback.confirm({
      title: t('contacts.blockTitle'),
      body: t('contacts.blockBody', { name }),
      confirmLabel: t('contacts.block'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (ok) await act(() => contacts.block(userId));
  };

  return (
    <div className="profile" data-testid="contact-profile">
      {onClose ? (
        <header className="panel-header">
          <h2>{t('contacts.profile')}</h2>
          <button type="button" className="icon-button" onClick={onClose} aria-label={t('common.close')}>
            <Icon name="close" />
          </button>
        </header>
      ) : null}
      <div className="profile-hero">
        <Avatar id={userId} name={name} size={96} />
        <h2 className="profile-name">{name}</h2>
        {user ? <p className="profile-sub">{friend?.remark ? `${user.display_name} · @${user.username}` : `@${user.username}`}</p> : null}
        {user?.status_text ? <p className="profile-status">{user.status_text}</p> : null}
      </div>
      <div className="profile-actions">
        <button type="button" className="button primary" onClick={() => nav.openChat({ user: userId })} disabled={blocked} data-testid="profile-message">
          <Icon name="chat" size={17} /> {t('contacts.message')}
        </button>
        {!friend && !blocked ? (
          <button
            type="button"
            className="button secondary"
            disabled={contacts.snapshot.outgoing.some((r) => r.to.id === userId)}
            onClick={() => act(() => contacts.sendRequest(userId), t('contacts.requestSent', { name }))}
          >
            <Icon name="userPlus" size={17} /> {t('contacts.addFriend')}
          </button>
        ) : null}
      </div>
      <ul className="settings-list">
        {friend ? (
          <>
            <li>
              <button type="button" className="settings-row" onClick={() => void editRemark()} data-testid="edit-remark">
                <Icon name="edit" size={18} />
                <span className="settings-row-label">{t('contacts.remark')}</span>
                <span className="settings-row-value">{friend.remark || t('common.notSet')}</span>
              </button>
            </li>
            <li className="settings-row static">
              <Icon name="clock" size={18} />
              <span className="settings-row-label">{t('contacts.friendsSince')}</span>
              <span className="settings-row-value">{new Date(friend.since).toLocaleDateString(locale)}</span>
            </li>
          </>
        ) : null}
        {directId != null ? (
          <li>
            <label className="settings-row">
              <Icon name="bellOff" size={18} />
              <span className="settings-row-label">{t('chat.muteNotifications')}</span>
              <input
                type="checkbox"
                className="switch"
                checked={directMuted}
                onChange={(e) => {
                  const v = e.target.checked;
                  setMuted(v);
                  void client.setMuted(directId, v).catch((err) => {
                    setMuted(!v);
                    feedback.toast(errorText(t, err), 'error');
                  });
                }}
              />
            </label>
          </li>
        ) : null}
        {friend ? (
          <li>
            <button type="button" className="settings-row danger" onClick={() => void remove()}>
              <Icon name="userMinus" size={18} />
              <span className="settings-row-label">{t('contacts.delete')}</span>
            </button>
          </li>
        ) : null}
        <li>
          {blocked ? (
            <button type="button" className="settings-row" onClick={() => act(() => contacts.unblock(userId))}>
              <Icon name="ban" size={18} />
              <span className="settings-row-label">{t('contacts.unblock')}</span>
            </button>
          ) : (
            <button type="button" className="settings-row danger" onClick={() => void block()}>
              <Icon name="ban" size={18} />
              <span className="settings-row-label">{t('contacts.block')}</span>
            </button>
          )}
        </li>
      </ul>
    </div>
  );
}

export function ContactsMain() {
  const { t } = useI18n();
  const nav = useNavigation();
  if (nav.contact == null) {
    return (
      <div className="chat-empty">
        <div className="empty-illustration">
          <Icon name="contacts" size={40} />
        </div>
        <p>{t('contacts.pick')}</p>
      </div>
    );
  }
  return (
    <div className="main-scroll">
      <div className="profile-page">
        <ContactProfile key={nav.contact} userId={nav.contact} />
      </div>
    </div>
  );
}
