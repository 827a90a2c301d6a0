// Generated from confab-proto by `CONFAB_UPDATE_TS=1 cargo test -p confab-proto --features ts typescript`.
// Do not edit by hand.

export const PROTOCOL_VERSION = 1;

export type ErrorCode = "malformed_frame" | "unknown_type" | "bad_request" | "frame_too_large" | "unsupported_version" | "unauthenticated" | "invalid_token" | "token_expired" | "token_revoked" | "wrong_credentials" | "username_taken" | "invalid_username" | "weak_password" | "already_authenticated" | "not_found" | "not_member" | "forbidden" | "too_long" | "invalid_argument" | "recall_window_passed" | "already_recalled" | "group_full" | "rate_limited" | "internal" | "unavailable";

export type WireError = { code: ErrorCode, message: string, 
/**
 * With `rate_limited`: how long to wait before retrying.
 */
retry_after_ms?: number | null, 
/**
 * Optional extra detail for developers (e.g. the parser's complaint).
 */
detail?: string | null, };

export type RegisterRequest = { 
/**
 * 3–32 characters: ASCII letters, digits, `_`, `.` and `-`, starting with a letter.
 * Compared case-insensitively.
 */
username: string, 
/**
 * 8–256 characters, not all of one character class trivially (see docs/protocol.md).
 */
password: string, display_name?: string | null, };

export type LoginRequest = { username: string, password: string, 
/**
 * Shown in the device list, e.g. "laptop" or "confab-cli".
 */
device_name?: string | null, };

export type LoginResponse = { 
/**
 * Bearer token for the WebSocket handshake (`/ws?token=` or `Authorization: Bearer`).
 */
token: string, device_id: number, expires_at: number, user: UserPublic, };

export type ErrorBody = { error: WireError, };

export type Request = { "type": "auth", "data": AuthRequest } | { "type": "ping" } | { "type": "get_user", "data": GetUser } | { "type": "update_profile", "data": UpdateProfile } | { "type": "list_devices" } | { "type": "revoke_device", "data": RevokeDevice } | { "type": "logout" } | { "type": "send", "data": SendRequest } | { "type": "sync" } | { "type": "get_conversation", "data": ConversationRef } | { "type": "history", "data": HistoryRequest } | { "type": "mark_read", "data": MarkRead } | { "type": "recall", "data": RecallRequest } | { "type": "typing", "data": ConversationRef } | { "type": "create_group", "data": CreateGroup } | { "type": "members", "data": MembersRequest } | { "type": "read_by", "data": ReadByRequest } | { "type": "presence", "data": PresenceRequest };

export type AuthRequest = { token: string, };

export type GetUser = { user_id?: number | null, username?: string | null, };

export type UpdateProfile = { display_name?: string | null, avatar?: string | null, status_text?: string | null, };

export type RevokeDevice = { device_id: number, };

export type DevicesResponse = { devices: Array<Device>, };

export type Target = { "conversation": number } | { "user": number };

export type SendRequest = { to: Target, 
/**
 * Idempotency key chosen by the client (1–64 characters). A retry with the same key returns
 * the original seq and stores nothing new.
 */
client_msg_id: string, content: Content, reply_to?: number | null, mentions?: Array<number>, mention_all?: boolean, };

export type SendResponse = { conversation_id: number, seq: number, created_at: number, 
/**
 * True when this was a retry of an already stored message.
 */
duplicate: boolean, };

export type SyncResponse = { 
/**
 * Newest activity first.
 */
conversations: Array<ConversationSummary>, total_unread: number, };

export type ConversationRef = { conversation_id: number, };

export type HistoryRequest = { conversation_id: number, before?: number | null, after?: number | null, 
/**
 * Default 50, at most the server's `history_page_max`.
 */
limit?: number | null, };

export type HistoryResponse = { messages: Array<Message>, 
/**
 * More messages exist beyond this page in the direction asked.
 */
has_more: boolean, };

export type MarkRead = { conversation_id: number, seq: number, };

export type MarkReadResponse = { conversation_id: number, 
/**
 * The read position after the call (it never moves backwards).
 */
read_seq: number, unread: number, };

export type RecallRequest = { conversation_id: number, seq: number, };

export type CreateGroup = { name: string, 
/**
 * Initial members besides the creator, who becomes the owner.
 */
members: Array<number>, };

export type MembersRequest = { conversation_id: number, 
/**
 * Page after this user id (members are ordered by user id).
 */
after_user?: number | null, limit?: number | null, };

export type MembersResponse = { members: Array<Member>, has_more: boolean, };

export type ReadByRequest = { conversation_id: number, seq: number, };

export type ReadByResponse = { 
/**
 * Members other than the sender whose read position has reached `seq`.
 */
count: number, 
/**
 * Those members' ids (at most 100).
 */
user_ids: Array<number>, };

export type PresenceRequest = { user_ids: Array<number>, };

export type PresenceResponse = { presence: Array<Presence>, };

export type Empty = Record<string, never>;

export type UserPublic = { id: number, username: string, display_name: string, avatar: string | null, status_text: string | null, };

export type Device = { id: number, name: string, created_at: number, last_used_at: number, expires_at: number, 
/**
 * True for the device asking.
 */
current: boolean, };

export type ConversationKind = "direct" | "group";

export type Role = "member" | "admin" | "owner";

export type Content = { "type": "text", text: string, } | { "type": "recalled" } | { "type": "system" } & SystemEvent;

export type SystemEvent = { "kind": "group_created", by: number, name: string, members: Array<number>, } | { "kind": "members_added", by: number, user_ids: Array<number>, } | { "kind": "message_recalled", by: number, seq: number, };

export type Message = { conversation_id: number, seq: number, sender_id: number, 
/**
 * The sender's idempotency key, echoed so the sending device can match its pending copy.
 */
client_msg_id: string | null, created_at: number, content: Content, 
/**
 * Seq of the message this one quotes.
 */
reply_to: number | null, mentions: Array<number>, mention_all: boolean, };

export type ConversationSummary = { id: number, kind: ConversationKind, 
/**
 * Group name; for a direct chat, the peer's display name.
 */
name: string, 
/**
 * The other person in a direct chat.
 */
peer: UserPublic | null, 
/**
 * The caller's role (always `member` in direct chats).
 */
role: Role, member_count: number, 
/**
 * Seq of the newest message or event.
 */
last_seq: number, 
/**
 * The caller has read everything up to and including this seq.
 */
read_seq: number, 
/**
 * Messages after `read_seq` that others sent.
 */
unread: number, 
/**
 * True if an unread message mentions the caller (or everyone).
 */
mentioned: boolean, last_activity: number, last_message: Message | null, 
/**
 * The caller cannot send here any more (e.g. they left).
 */
read_only: boolean, };

export type Member = { user: UserPublic, role: Role, joined_at: number, read_seq: number, };

export type Presence = { user_id: number, online: boolean, 
/**
 * When the user was last connected (absent while online or if never seen).
 */
last_seen: number | null, };

export type Event = { "event": "hello", "data": Hello } | { "event": "message", "data": Message } | { "event": "read", "data": ReadEvent } | { "event": "typing", "data": TypingEvent } | { "event": "presence", "data": Presence };

export type Hello = { protocol: number, server_version: string, user: UserPublic, device_id: number, server_time: number, 
/**
 * The server closes a connection silent for this long; clients ping more often.
 */
idle_timeout_ms: number, limits: Limits, };

export type Limits = { max_frame_bytes: number, max_text_chars: number, max_group_members: number, recall_window_ms: number, history_page_max: number, };

export type ReadEvent = { conversation_id: number, user_id: number, read_seq: number, 
/**
 * The reader's unread count left in this conversation (only in events to the reader).
 */
unread: number | null, };

export type TypingEvent = { conversation_id: number, user_id: number, };
