import { useEffect, useMemo, useState } from 'react';
import type { JoinPolicy, Member, Role } from '../../client';
import { conversationTitle } from '../../client/store';
import { useNavigation } from '../../app/navigation';
import { useAssistant, useChat, useGroups, usePeople, useServices } from '../../app/services';
import { useI18n, type MessageKey } from '../../i18n';
import { Avatar } from '../../ui/Avatar';
import { Icon } from '../../ui/Icon';
import { MenuButton, type MenuItem } from '../../ui/Menu';
import { useFeedback } from '../../ui/feedback';
import { errorCodeText, errorText } from '../../ui/errors';
import { POLICY_KEYS } from '../chat/systemText';
import { InviteDialog } from './CreateGroupDialog';

const ROLE_KEYS: Record<Role, MessageKey> = { owner: 'group.role.owner', admin: 'group.role.admin', member: 'group.role.member' };
const ROLE_RANK: Record<Role, number> = { owner: 2, admin: 1, member: 0 };

export function GroupInfoPanel({ conversationId, onClose }: { conversationId: number; onClose: () => void }) {
  const { t, tn } = useI18n();
  const { client } = useServices();
  const assistantConfigured = !!useAssistant().status?.configured;
  const groups = useGroups();
  const people = usePeople();
  const nav = useNavigation();
  const feedback = useFeedback();
  const entry = useChat((s) => s.conversations[conversationId]);
  const info = groups.info(conversationId);
  const infoError = groups.error(conversationId);
  const members = people.membersOf(conversationId);
  const [inviting, setInviting] = useState(false);
  const [code, setCode] = useState<string | null>(null);
  const me = client.me;

  useEffect(() => {
    void people.loadMembers(conversationId).catch(() => {});
  }, [people, conversationId]);

  const myRole: Role = info?.my_role ?? entry?.summary.role ?? 'member';
  const isAdmin = myRole === 'owner' || myRole === 'admin';
  const isOwner = myRole === 'owner';
  const readOnly = entry?.summary.read_only ?? false;

  useEffect(() => {
    if (isAdmin && info?.join_policy === 'approval') void groups.loadJoinRequests(conversationId);
  }, [isAdmin, info?.join_policy, groups, conversationId]);

  const sorted = useMemo(
    () =>
      [...(members ?? [])].sort(
        (a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role] || people.name(a.user.id, conversationId).localeCompare(people.name(b.user.id, conversationId)),
      ),
    [members, people, conversationId],
  );

  if (!entry) return null;
  const s = entry.summary;
  const title = conversationTitle(s);

  const run = async (fn: () => Promise<unknown>, done?: string) => {
    try {
      await fn();
      if (done) feedback.toast(done, 'success');
      void groups.load(conversationId);
      people.invalidateMembers(conversationId);
      // Events this device caused are not pushed back to it: catch up on them.
      void client.refreshConversation(conversationId);
      return true;
    } catch (e) {
      feedback.toast(errorText(t, e), 'error');
      return false;
    }
  };

  const update = (patch: { name?: string; announcement?: string; join_policy?: JoinPolicy; mute_all?: boolean; assistant_enabled?: boolean }) =>
    run(async () => {
      const next = await client.request('group_update', { conversation_id: conversationId, ...patch });
      groups.set(next);
    }, t('common.saved'));

  const editText = async (kind: 'name' | 'announcement' | 'nickname' | 'remark') => {
    const cfg = {
      name: { title: t('group.rename'), label: t('group.name'), initial: info?.name ?? s.name, multiline: false, allowEmpty: false, max: 64 },
      announcement: { title: t('group.editAnnouncement'), label: t('group.announcement'), initial: info?.announcement ?? '', multiline: true, allowEmpty: true, max: 1000 },
      nickname: { title: t('group.myNickname'), label: t('group.nickname'), initial: info?.my_nickname ?? '', multiline: false, allowEmpty: true, max: 32 },
      remark: { title: t('group.myRemark'), label: t('group.remark'), initial: info?.my_remark ?? s.remark ?? '', multiline: false, allowEmpty: true, max: 64 },
    }[kind];
    const v = await feedback.prompt({
      title: cfg.title,
      label: cfg.label,
      initial: cfg.initial,
      multiline: cfg.multiline,
      allowEmpty: cfg.allowEmpty,
      maxLength: cfg.max,
      confirmLabel: t('common.save'),
      cancelLabel: t('common.cancel'),
    });
    if (v == null) return;
    if (kind === 'name') await update({ name: v });
    else if (kind === 'announcement') await update({ announcement: v });
    else if (kind === 'nickname') await run(() => client.request('group_nickname', { conversation_id: conversationId, text: v }), t('common.saved'));
    else await run(async () => {
      await client.request('group_remark', { conversation_id: conversationId, text: v });
      await client.refreshConversation(conversationId);
    }, t('common.saved'));
  };

  const showCode = async (reset: boolean) => {
    await run(async () => {
      const r = await client.request('group_invite_code', { conversation_id: conversationId, reset });
      setCode(r.invite_code);
    });
  };

  const leave = async () => {
    const ok = await feedback.confirm({
      title: t('group.leaveTitle'),
      body: t('group.leaveBody', { name: title }),
      confirmLabel: t('group.leave'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (ok && (await run(() => client.request('group_leave', { conversation_id: conversationId })))) {
      void client.refreshConversation(conversationId);
      onClose();
    }
  };

  const dissolve = async () => {
    const ok = await feedback.confirm({
      title: t('group.dissolveTitle'),
      body: t('group.dissolveBody', { name: title }),
      confirmLabel: t('group.dissolve'),
      cancelLabel: t('common.cancel'),
      danger: true,
    });
    if (ok && (await run(() => client.request('group_dissolve', { conversation_id: conversationId })))) {
      void client.refreshConversation(conversationId);
    }
  };

  const memberActions = (m: Member): MenuItem[] => {
    const uid = m.user.id;
    const name = people.name(uid, conversationId);
    const items: MenuItem[] = [{ id: 'profile', label: t('contacts.profile'), icon: 'user', onSelect: () => nav.setPanel({ kind: 'user', userId: uid }) }];
    if (uid === me || readOnly) return items;
    const outranks = ROLE_RANK[myRole] > ROLE_RANK[m.role];
    if (isOwner) {
      items.push(
        m.role === 'admin'
          ? { id: 'demote', label: t('group.removeAdmin'), icon: 'shield', onSelect: () => void run(() => client.request('group_set_role', { conversation_id: conversationId, user_id: uid, role: 'member' }), t('common.saved')) }
          : { id: 'promote', label: t('group.makeAdmin'), icon: 'shield', onSelect: () => void run(() => client.request('group_set_role', { conversation_id: conversationId, user_id: uid, role: 'admin' }), t('common.saved')) },
      );
    }
    if (isAdmin && outranks) {
      const muted = m.muted_until != null && m.muted_until > Date.now();
      const mute = (secs: number) => () => void run(() => client.request('group_mute', { conversation_id: conversationId, user_id: uid, duration_secs: secs }), t('common.saved'));
      if (muted) items.push({ id: 'unmute', label: t('group.unmuteMember'), icon: 'bell', onSelect: mute(0) });
      items.push(
        { id: 'mute10m', label: t('group.muteFor', { duration: t('duration.10m') }), icon: 'micOff', onSelect: mute(600) },
        { id: 'mute1h', label: t('group.muteFor', { duration: t('duration.1h') }), icon: 'micOff', onSelect: mute(3600) },
        { id: 'mute1d', label: t('group.muteFor', { duration: t('duration.1d') }), icon: 'micOff', onSelect: mute(86400) },
      );
    }
    if (isOwner) {
      items.push({
        id: 'transfer',
        label: t('group.transfer'),
        icon: 'crown',
        onSelect: async () => {
          const ok = await feedback.confirm({
            title: t('group.transferTitle'),
            body: t('group.transferBody', { name }),
            confirmLabel: t('group.transfer'),
            cancelLabel: t('common.cancel'),
            danger: true,
          });
          if (ok) await run(() => client.request('group_transfer', { conversation_id: conversationId, user_id: uid }), t('common.saved'));
        },
      });
    }
    if (isAdmin && outranks) {
      items.push({
        id: 'kick',
        label: t('group.kick'),
        icon: 'userMinus',
        danger: true,
        onSelect: async () => {
          const ok = await feedback.confirm({
            title: t('group.kickTitle'),
            body: t('group.kickBody', { name }),
            confirmLabel: t('group.kick'),
            cancelLabel: t('common.cancel'),
            danger: true,
          });
          if (ok) await run(() => client.request('group_kick', { conversation_id: conversationId, user_id: uid }), t('group.kicked', { name }));
        },
      });
    }
    return items;
  };

  const requests = isAdmin ? groups.joinRequests(conversationId) : [];
  const inviteCode = code ?? info?.invite_code ?? null;

  return (
    <div className="panel-content" data-testid="group-info">
      <header className="panel-header">
        <h2>{t('group.info')}</h2>
        <button type="button" className="icon-button" onClick={onClose} aria-label={t('common.close')}>
          <Icon name="close" />
        </button>
      </header>
      <div className="panel-scroll">
        <div className="profile-hero">
          <Avatar id={-conversationId} name={title} size={88} group />
          <h2 className="profile-name">
            {title}
            {isAdmin && !readOnly ? (
              <button type="button" className="icon-button small" onClick={() => void editText('name')} aria-label={t('group.rename')} title={t('group.rename')}>
                <Icon name="edit" size={16} />
              </button>
            ) : null}
          </h2>
          <p className="profile-sub">
            {tn('chat.members', s.member_count)}
            {info?.dissolved ? ` · ${t('group.dissolvedLabel')}` : ''}
          </p>
        </div>
        {infoError ? <div className="notice notice-error inset">{errorCodeText(t, infoError)}</div> : null}

        <section className="panel-section">
          <div className="section-title-row">
            <h3>
              <Icon name="megaphone" size={16} /> {t('group.announcement')}
            </h3>
            {isAdmin && !readOnly ? (
              <button type="button" className="link-button" onClick={() => void editText('announcement')} data-testid="edit-announcement">
                {t('common.edit')}
              </button>
            ) : null}
          </div>
          <p className={`announcement-body${info?.announcement ? '' : ' muted'}`}>{info?.announcement || t('group.noAnnouncement')}</p>
        </section>

        <section className="panel-section">
          <h3>{t('group.mySettings')}</h3>
          <ul className="settings-list">
            <li>
              <label className="settings-row">
                <Icon name="bellOff" size={18} />
                <span className="settings-row-label">{t('chat.muteNotifications')}</span>
                <input type="checkbox" className="switch" checked={s.muted} onChange={(e) => void run(() => client.setMuted(conversationId, e.target.checked))} />
              </label>
            </li>
            {!readOnly ? (
              <li>
                <button type="button" className="settings-row" onClick={() => void editText('nickname')}>
                  <Icon name="user" size={18} />
                  <span className="settings-row-label">{t('group.myNickname')}</span>
                  <span className="settings-row-value">{info?.my_nickname || t('common.notSet')}</span>
                </button>
              </li>
            ) : null}
            <li>
              <button type="button" className="settings-row" onClick={() => void editText('remark')}>
                <Icon name="edit" size={18} />
                <span className="settings-row-label">{t('group.myRemark')}</span>
                <span className="settings-row-value">{info?.my_remark || s.remark || t('common.notSet')}</span>
              </button>
            </li>
          </ul>
        </section>

        {isAdmin && !readOnly ? (
          <section className="panel-section" data-testid="admin-panel">
            <h3>
              <Icon name="shield" size={16} /> {t('group.admin')}
            </h3>
            <ul className="settings-list">
              <li>
                <label className="settings-row">
                  <Icon name="door" size={18} />
                  <span className="settings-row-label">{t('group.joinPolicy')}</span>
                  <select value={info?.join_policy ?? 'approval'} onChange={(e) => void update({ join_policy: e.target.value as JoinPolicy })} aria-label={t('group.joinPolicy')}>
                    {(Object.keys(POLICY_KEYS) as JoinPolicy[]).map((p) => (
                      <option key={p} value={p}>
                        {t(POLICY_KEYS[p])}
                      </option>
                    ))}
                  </select>
                </label>
              </li>
              <li>
                <label className="settings-row">
                  <Icon name="micOff" size={18} />
                  <span className="settings-row-label">{t('group.muteAll')}</span>
                  <input type="checkbox" className="switch" checked={info?.mute_all ?? false} onChange={(e) => void update({ mute_all: e.target.checked })} />
                </label>
              </li>
              {assistantConfigured ? (
                <li>
                  <label className="settings-row">
                    <Icon name="sparkles" size={18} />
                    <span className="settings-row-label">
                      {t('group.assistantEnabled')}
                      <span className="settings-row-hint">{t('group.assistantEnabledHint')}</span>
                    </span>
                    <input
                      type="checkbox"
                      className="switch"
                      checked={info?.assistant_enabled ?? false}
                      onChange={(e) => void update({ assistant_enabled: e.target.checked })}
                      data-testid="assistant-enabled"
                    />
                  </label>
                </li>
              ) : null}
              <li className="settings-row static column">
                <span className="settings-row-top">
                  <Icon name="link" size={18} />
                  <span className="settings-row-label">{t('group.inviteCode')}</span>
                </span>
                {inviteCode ? (
                  <span className="invite-code">
                    <code>{inviteCode}</code>
                    <button
                      type="button"
                      className="icon-button small"
                      aria-label={t('common.copy')}
                      title={t('common.copy')}
                      onClick={() => void navigator.clipboard?.writeText(inviteCode).then(() => feedback.toast(t('message.copied'), 'success'), () => {})}
                    >
                      <Icon name="copy" size={16} />
                    </button>
                    <button type="button" className="icon-button small" aria-label={t('group.resetCode')} title={t('group.resetCode')} onClick={() => void showCode(true)}>
                      <Icon name="refresh" size={16} />
                    </button>
                  </span>
                ) : (
                  <button type="button" className="link-button" onClick={() => void showCode(false)}>
                    {t('group.showCode')}
                  </button>
                )}
              </li>
            </ul>
            {requests.length ? (
              <>
                <h4 className="subhead">{t('group.joinRequests')}</h4>
                <ul className="people-list">
                  {requests.map((r) => (
                    <li key={r.user.id} className="person">
                      <Avatar id={r.user.id} name={r.user.display_name} size={32} />
                      <span className="contact-body">
                        <span className="contact-name">{r.user.display_name}</span>
                        {r.note ? <span className="contact-sub">“{r.note}”</span> : null}
                      </span>
                      <button type="button" className="button primary small" onClick={() => void run(() => client.request('group_approve', { conversation_id: conversationId, user_id: r.user.id })).then(() => groups.loadJoinRequests(conversationId))}>
                        {t('contacts.accept')}
                      </button>
                      <button type="button" className="button secondary small" onClick={() => void run(() => client.request('group_reject', { conversation_id: conversationId, user_id: r.user.id })).then(() => groups.loadJoinRequests(conversationId))}>
                        {t('contacts.decline')}
                      </button>
                    </li>
                  ))}
                </ul>
              </>
            ) : null}
          </section>
        ) : null}

        <section className="panel-section">
          <div className="section-title-row">
            <h3>
              <Icon name="users" size={16} /> {t('group.membersTitle', { count: s.member_count })}
            </h3>
            {!readOnly && (isAdmin || info?.join_policy !== 'invite_only') ? (
              <button type="button" className="link-button" onClick={() => setInviting(true)} data-testid="invite-members">
                <Icon name="userPlus" size={15} /> {t('group.invite')}
              </button>
            ) : null}
          </div>
          {members == null ? (
            <div className="center">
              <span className="spinner" aria-label={t('common.loading')} />
            </div>
          ) : (
            <ul className="member-list" data-testid="member-list">
              {sorted.map((m) => {
                const name = people.name(m.user.id, conversationId);
                const muted = m.muted_until != null && m.muted_until > Date.now();
                return (
                  <li key={m.user.id} className="member" data-testid="member" data-user-id={m.user.id}>
                    <Avatar id={m.user.id} name={name} size={36} />
                    <span className="contact-body">
                      <span className="contact-name">
                        {name}
                        {m.user.id === me ? <span className="muted"> ({t('system.you')})</span> : null}
                      </span>
                      <span className="contact-sub">
                        {m.nickname ? `${m.user.display_name} · ` : ''}@{m.user.username}
                        {muted ? ` · ${t('group.mutedLabel')}` : ''}
                      </span>
                    </span>
                    {m.role !== 'member' ? <span className={`role-badge ${m.role}`}>{t(ROLE_KEYS[m.role])}</span> : null}
                    <MenuButton items={memberActions(m)} label={t('group.memberActions', { name })} className="icon-button small" testId="member-menu">
                      <Icon name="more" size={17} />
                    </MenuButton>
                  </li>
                );
              })}
            </ul>
          )}
        </section>

        {!readOnly ? (
          <section className="panel-section">
            <ul className="settings-list">
              {!isOwner ? (
                <li>
                  <button type="button" className="settings-row danger" onClick={() => void leave()} data-testid="leave-group">
                    <Icon name="door" size={18} />
                    <span className="settings-row-label">{t('group.leave')}</span>
                  </button>
                </li>
              ) : (
                <li>
                  <button type="button" className="settings-row danger" onClick={() => void dissolve()} data-testid="dissolve-group">
                    <Icon name="trash" size={18} />
                    <span className="settings-row-label">{t('group.dissolve')}</span>
                  </button>
                </li>
              )}
            </ul>
          </section>
        ) : null}
      </div>
      {inviting ? <InviteDialog conversationId={conversationId} memberIds={new Set((members ?? []).map((m) => m.user.id))} onClose={() => setInviting(false)} /> : null}
    </div>
  );
}
