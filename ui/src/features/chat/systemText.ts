// The sentence shown for a system event, e.g. "Ann removed Bob".

import type { JoinPolicy, SystemEvent } from '../../client';
import type { I18n, MessageKey } from '../../i18n';

export const POLICY_KEYS: Record<JoinPolicy, MessageKey> = {
  free: 'group.policy.free',
  approval: 'group.policy.approval',
  invite_only: 'group.policy.invite_only',
};

export function systemText(ev: SystemEvent, name: (id: number) => string, t: I18n['t'], me: number): string {
  const who = (id: number) => (id === me ? t('system.you') : name(id));
  const list = (ids: number[]) => ids.map(who).join(t('system.listSeparator'));
  switch (ev.kind) {
    case 'group_created':
      return t('system.groupCreated', { by: who(ev.by), name: ev.name });
    case 'members_added':
      return t('system.membersAdded', { by: who(ev.by), users: list(ev.user_ids) });
    case 'message_recalled':
      return ev.by === me ? t('system.youRecalled') : t('system.recalled', { by: who(ev.by) });
    case 'member_joined':
      return t('system.memberJoined', { user: who(ev.user_id) });
    case 'member_left':
      return t('system.memberLeft', { user: who(ev.user_id) });
    case 'member_kicked':
      return t('system.memberKicked', { by: who(ev.by), user: who(ev.user_id) });
    case 'group_renamed':
      return t('system.groupRenamed', { by: who(ev.by), name: ev.name });
    case 'avatar_changed':
      return t('system.avatarChanged', { by: who(ev.by) });
    case 'announcement_updated':
      return ev.text ? t('system.announcementUpdated', { by: who(ev.by) }) : t('system.announcementCleared', { by: who(ev.by) });
    case 'join_policy_changed':
      return t('system.joinPolicyChanged', { by: who(ev.by), policy: t(POLICY_KEYS[ev.policy]) });
    case 'owner_transferred':
      return t('system.ownerTransferred', { from: who(ev.from), to: who(ev.to) });
    case 'role_changed':
      return ev.role === 'admin'
        ? t('system.madeAdmin', { by: who(ev.by), user: who(ev.user_id) })
        : t('system.removedAdmin', { by: who(ev.by), user: who(ev.user_id) });
    case 'member_muted':
      return ev.until ? t('system.memberMuted', { by: who(ev.by), user: who(ev.user_id) }) : t('system.memberUnmuted', { by: who(ev.by), user: who(ev.user_id) });
    case 'mute_all_changed':
      return ev.on ? t('system.muteAllOn', { by: who(ev.by) }) : t('system.muteAllOff', { by: who(ev.by) });
    case 'nickname_changed':
      return ev.nickname ? t('system.nicknameSet', { user: who(ev.user_id), nickname: ev.nickname }) : t('system.nicknameCleared', { user: who(ev.user_id) });
    case 'group_dissolved':
      return t('system.groupDissolved', { by: who(ev.by) });
    case 'assistant_changed':
      return ev.on ? t('system.assistantOn', { by: who(ev.by) }) : t('system.assistantOff', { by: who(ev.by) });
    default:
      return t('system.unknown');
  }
}
