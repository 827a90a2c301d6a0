import type { ConversationSummary, Message, UserPublic } from '../protocol';
import { applyHello, emptyState, type ChatState } from '../store';

export const ME: UserPublic = { id: 1, username: 'ann', display_name: 'Ann', avatar: null, status_text: null };
export const BOB: UserPublic = { id: 2, username: 'bob', display_name: 'Bob', avatar: null, status_text: null };

export const LIMITS = {
  max_frame_bytes: 65536,
  max_text_chars: 4000,
  max_group_members: 2000,
  recall_window_ms: 120000,
  history_page_max: 200,
  max_image_bytes: 20 << 20,
  max_voice_bytes: 20 << 20,
  max_video_bytes: 200 << 20,
  max_file_bytes: 1 << 30,
};

export function msg(seq: number, sender = BOB.id, text = `m${seq}`, conversation_id = 10): Message {
  return {
    conversation_id,
    seq,
    sender_id: sender,
    client_msg_id: null,
    created_at: 1_000_000 + seq * 1000,
    content: { type: 'text', text },
    reply_to: null,
    mentions: [],
    mention_all: false,
  };
}

export function summary(patch: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    id: 10,
    kind: 'direct',
    name: 'Bob',
    peer: BOB,
    role: 'member',
    member_count: 2,
    last_seq: 0,
    read_seq: 0,
    unread: 0,
    mentioned: false,
    last_activity: 1_000_000,
    last_message: null,
    read_only: false,
    remark: null,
    muted: false,
    avatar: null,
    ...patch,
  };
}

export function stateWith(...summaries: ConversationSummary[]): ChatState {
  let s = applyHello(emptyState(), ME, LIMITS);
  for (const x of summaries) s = { ...s, conversations: { ...s.conversations, [x.id]: { summary: x, messages: [], loaded: false, historyComplete: false, gap: null, peerReadSeq: 0 } } };
  return s;
}

export function range(from: number, to: number, sender = BOB.id): Message[] {
  const out: Message[] = [];
  for (let s = from; s <= to; s++) out.push(msg(s, sender));
  return out;
}
