import { useMemo, useState } from 'react';
import { useNavigation } from '../../app/navigation';
import { useContacts, useServices } from '../../app/services';
import { useI18n } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { Modal } from '../../ui/Modal';
import { errorText } from '../../ui/errors';

/** Name a group and pick friends to start it with. */
export function CreateGroupDialog({ onClose }: { onClose: () => void }) {
  const { t, tn } = useI18n();
  const { client } = useServices();
  const contacts = useContacts();
  const nav = useNavigation();
  const [name, setName] = useState('');
  const [filter, setFilter] = useState('');
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const friends = contacts.snapshot.friends;
  const q = filter.trim().toLowerCase();
  const shown = useMemo(
    () => (q ? friends.filter((f) => [f.remark, f.user.display_name, f.user.username].filter(Boolean).join('\n').toLowerCase().includes(q)) : friends),
    [friends, q],
  );

  const toggle = (id: number) =>
    setPicked((p) => {
      const next = new Set(p);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const create = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!name.trim() || busy) return;
    setBusy(true);
    setError(null);
    try {
      const summary = await client.request('create_group', { name: name.trim(), members: [...picked] });
      client.upsertConversation(summary);
      onClose();
      nav.openChat({ conversation: summary.id });
    } catch (err) {
      setError(errorText(t, err));
      setBusy(false);
    }
  };

  return (
    <Modal title={t('group.create')} onClose={onClose} closeLabel={t('common.close')} width={460}>
      <form className="form" onSubmit={create}>
        <label className="field">
          <span className="field-label">{t('group.name')}</span>
          <input value={name} onChange={(e) => setName(e.target.value)} placeholder={t('group.namePlaceholder')} maxLength={64} autoFocus required data-testid="group-name" />
        </label>
        <div className="field">
          <span className="field-label">
            {t('group.addMembers')} {picked.size ? <span className="muted">· {tn('group.selected', picked.size)}</span> : null}
          </span>
          {friends.length ? (
            <>
              <div className="search inline">
                <Icon name="search" size={16} />
                <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder={t('contacts.search')} aria-label={t('contacts.search')} />
              </div>
              <ul className="pick-list" data-testid="group-member-picker">
                {shown.map((f) => (
                  <li key={f.user.id}>
                    <label className="pick-item">
                      <input type="checkbox" checked={picked.has(f.user.id)} onChange={() => toggle(f.user.id)} />
                      <Avatar id={f.user.id} name={f.remark || f.user.display_name} size={32} />
                      <span className="contact-body">
                        <span className="contact-name">{f.remark || f.user.display_name}</span>
                        <span className="contact-sub">@{f.user.username}</span>
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="muted">{t('group.noFriendsToAdd')}</p>
          )}
        </div>
        {error ? (
          <div className="notice notice-error" role="alert">
            {error}
          </div>
        ) : null}
        <div className="modal-footer inline">
          <button type="button" className="button secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button primary" disabled={!name.trim() || busy} data-testid="create-group-submit">
            {t('group.createButton')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Invite friends who are not in the group yet. */
export function InviteDialog({ conversationId, memberIds, onClose }: { conversationId: number; memberIds: Set<number>; onClose: () => void }) {
  const { t, tn } = useI18n();
  const { client } = useServices();
  const contacts = useContacts();
  const [picked, setPicked] = useState<Set<number>>(new Set());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const candidates = contacts.snapshot.friends.filter((f) => !memberIds.has(f.user.id));
  const invite = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.request('group_invite', { conversation_id: conversationId, user_ids: [...picked] });
      onClose();
    } catch (e) {
      setError(errorText(t, e));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={t('group.invite')}
      onClose={onClose}
      closeLabel={t('common.close')}
      width={420}
      footer={
        <>
          <button type="button" className="button secondary" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="button primary" disabled={!picked.size || busy} onClick={() => void invite()}>
            {picked.size ? tn('group.inviteN', picked.size) : t('group.invite')}
          </button>
        </>
      }
    >
      {candidates.length ? (
        <ul className="pick-list tall">
          {candidates.map((f) => (
            <li key={f.user.id}>
              <label className="pick-item">
                <input
                  type="checkbox"
                  checked={picked.has(f.user.id)}
                  onChange={() =>
                    setPicked((p) => {
                      const n = new Set(p);
                      if (n.has(f.user.id)) n.delete(f.user.id);
                      else n.add(f.user.id);
                      return n;
                    })
                  }
                />
                <Avatar id={f.user.id} name={f.remark || f.user.display_name} size={32} />
                <span className="contact-body">
                  <span className="contact-name">{f.remark || f.user.display_name}</span>
                  <span className="contact-sub">@{f.user.username}</span>
                </span>
              </label>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">{t('group.noFriendsToInvite')}</p>
      )}
      {error ? (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      ) : null}
    </Modal>
  );
}
