// Generated from confab-proto by `CONFAB_UPDATE_TS=1 cargo test -p confab-proto --features ts typescript`.
// Do not edit by hand.

export const PROTOCOL_VERSION = 1;

export type ErrorCode = "malformed_frame" | "unknown_type" | "bad_request" | "frame_too_large" | "unsupported_version" | "unauthenticated" | "invalid_token" | "token_expired" | "token_revoked" | "wrong_credentials" | "username_taken" | "invalid_username" | "weak_password" | "already_authenticated" | "not_found" | "not_member" | "forbidden" | "too_long" | "invalid_argument" | "recall_window_passed" | "already_recalled" | "group_full" | "muted" | "group_dissolved" | "already_exists" | "not_allowed" | "media_too_large" | "media_type_mismatch" | "invalid_media" | "image_too_large" | "incomplete_upload" | "url_expired" | "range_not_satisfiable" | "rate_limited" | "internal" | "unavailable" | "assistant_not_configured";

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

export type Request = { "type": "auth", "data": AuthRequest } | { "type": "ping" } | { "type": "get_user", "data": GetUser } | { "type": "update_profile", "data": UpdateProfile } | { "type": "list_devices" } | { "type": "revoke_device", "data": RevokeDevice } | { "type": "logout" } | { "type": "send", "data": SendRequest } | { "type": "sync" } | { "type": "get_conversation", "data": ConversationRef } | { "type": "history", "data": HistoryRequest } | { "type": "mark_read", "data": MarkRead } | { "type": "recall", "data": RecallRequest } | { "type": "typing", "data": ConversationRef } | { "type": "create_group", "data": CreateGroup } | { "type": "members", "data": MembersRequest } | { "type": "read_by", "data": ReadByRequest } | { "type": "presence", "data": PresenceRequest } | { "type": "set_muted", "data": SetMuted } | { "type": "search_users", "data": SearchUsers } | { "type": "friend_request", "data": FriendRequestSend } | { "type": "friend_accept", "data": UserRef } | { "type": "friend_decline", "data": UserRef } | { "type": "friend_delete", "data": UserRef } | { "type": "friends" } | { "type": "friend_requests" } | { "type": "friend_remark", "data": SetFriendRemark } | { "type": "block", "data": UserRef } | { "type": "unblock", "data": UserRef } | { "type": "blocked" } | { "type": "get_settings" } | { "type": "update_settings", "data": Settings } | { "type": "group_info", "data": ConversationRef } | { "type": "group_invite", "data": GroupUsers } | { "type": "group_join", "data": GroupJoin } | { "type": "group_join_requests", "data": ConversationRef } | { "type": "group_approve", "data": GroupUser } | { "type": "group_reject", "data": GroupUser } | { "type": "group_leave", "data": ConversationRef } | { "type": "group_kick", "data": GroupUser } | { "type": "group_dissolve", "data": ConversationRef } | { "type": "group_transfer", "data": GroupUser } | { "type": "group_set_role", "data": GroupSetRole } | { "type": "group_update", "data": GroupUpdate } | { "type": "group_remark", "data": GroupText } | { "type": "group_nickname", "data": GroupText } | { "type": "group_mute", "data": GroupMute } | { "type": "group_invite_code", "data": InviteCodeRequest } | { "type": "media_url", "data": MediaUrlRequest } | { "type": "assistant_status" } | { "type": "assistant_stop", "data": AssistantStop } | { "type": "assistant_summarize", "data": AssistantSummarize } | { "type": "assistant_translate", "data": AssistantTranslate };

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

export type UserPublic = { id: number, username: string, display_name: string, avatar: string | null, status_text: string | null, 
/**
 * An automated account (the AI assistant), not a person.
 */
is_bot?: boolean, };

export type Device = { id: number, name: string, created_at: number, last_used_at: number, expires_at: number, 
/**
 * True for the device asking.
 */
current: boolean, };

export type ConversationKind = "direct" | "group";

export type Role = "member" | "admin" | "owner";

export type Content = { "type": "text", text: string, } | { "type": "recalled" } | { "type": "system" } & SystemEvent | { "type": "image", media: MediaRef, 
/**
 * After the EXIF orientation is applied.
 */
width: number, height: number, thumbnail: Thumbnail | null, 
/**
 * The average colour, `#rrggbb`, to paint while loading.
 */
placeholder: string | null, } | { "type": "file", media: MediaRef, name: string, } | { "type": "voice", media: MediaRef, 
/**
 * Absent when the container did not tell.
 */
duration_ms: number | null, } | { "type": "video", media: MediaRef, duration_ms: number | null, width: number | null, height: number | null, poster: Thumbnail | null, } | { "type": "assistant" } & AssistantReply;

export type SystemEvent = { "kind": "group_created", by: number, name: string, members: Array<number>, member_count: number, } | { "kind": "members_added", by: number, user_ids: Array<number>, } | { "kind": "message_recalled", by: number, seq: number, } | { "kind": "member_joined", user_id: number, } | { "kind": "member_left", user_id: number, } | { "kind": "member_kicked", by: number, user_id: number, } | { "kind": "group_renamed", by: number, name: string, } | { "kind": "avatar_changed", by: number, } | { "kind": "announcement_updated", by: number, text: string | null, } | { "kind": "join_policy_changed", by: number, policy: JoinPolicy, } | { "kind": "owner_transferred", from: number, to: number, } | { "kind": "role_changed", by: number, user_id: number, role: Role, } | { "kind": "member_muted", by: number, user_id: number, until: number | null, } | { "kind": "mute_all_changed", by: number, on: boolean, } | { "kind": "nickname_changed", user_id: number, nickname: string | null, } | { "kind": "group_dissolved", by: number, } | { "kind": "assistant_changed", by: number, on: boolean, };

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
 * The caller cannot send here any more (they left or were removed, or it was dissolved).
 */
read_only: boolean, 
/**
 * The caller's private remark for this conversation (a group remark, or the friend
 * remark of the peer in a direct chat).
 */
remark: string | null, 
/**
 * The caller muted notifications for this conversation.
 */
muted: boolean, avatar: string | null, };

export type Member = { user: UserPublic, role: Role, joined_at: number, read_seq: number, 
/**
 * The member's nickname in this group.
 */
nickname: string | null, 
/**
 * Muted until this time (absent when not muted).
 */
muted_until: number | null, };

export type Presence = { user_id: number, online: boolean, 
/**
 * When the user was last connected (absent while online or if never seen).
 */
last_seen: number | null, };

export type Event = { "event": "hello", "data": Hello } | { "event": "message", "data": Message } | { "event": "read", "data": ReadEvent } | { "event": "typing", "data": TypingEvent } | { "event": "presence", "data": Presence } | { "event": "contact", "data": ContactEvent } | { "event": "conversation_changed", "data": ConversationChanged } | { "event": "assistant_delta", "data": AssistantDelta } | { "event": "assistant_result", "data": AssistantResult };

export type Hello = { protocol: number, server_version: string, user: UserPublic, device_id: number, server_time: number, 
/**
 * The server closes a connection silent for this long; clients ping more often.
 */
idle_timeout_ms: number, limits: Limits, };

export type Limits = { max_frame_bytes: number, max_text_chars: number, max_group_members: number, recall_window_ms: number, history_page_max: number, 
/**
 * Largest upload of each kind, in bytes (`POST /api/v1/media`).
 */
max_image_bytes: number, max_voice_bytes: number, max_video_bytes: number, max_file_bytes: number, };

export type ReadEvent = { conversation_id: number, user_id: number, read_seq: number, 
/**
 * The reader's unread count left in this conversation (only in events to the reader).
 */
unread: number | null, };

export type TypingEvent = { conversation_id: number, user_id: number, };

export type SearchUsers = { 
/**
 * Matched against usernames (prefix) and display names (substring), case-insensitively.
 */
query: string, 
/**
 * Page after this user id.
 */
after?: number | null, limit?: number | null, };

export type UsersPage = { users: Array<UserPublic>, has_more: boolean, };

export type UserRef = { user_id: number, };

export type FriendRequestSend = { user_id: number, 
/**
 * A short note shown to the recipient (at most 200 characters).
 */
note?: string | null, };

export type FriendRequest = { from: UserPublic, to: UserPublic, note: string | null, created_at: number, };

export type FriendRequestsResponse = { incoming: Array<FriendRequest>, outgoing: Array<FriendRequest>, };

export type Friend = { user: UserPublic, 
/**
 * My private alias for this friend.
 */
remark: string | null, since: number, };

export type FriendsResponse = { friends: Array<Friend>, };

export type SetFriendRemark = { user_id: number, 
/**
 * Empty clears the remark.
 */
remark: string, };

export type BlockedResponse = { users: Array<UserPublic>, };

export type DirectPolicy = "friends_only" | "anyone";

export type Settings = { direct_messages: DirectPolicy, };

export type ContactEvent = { "kind": "requested", request: FriendRequest, } | { "kind": "accepted", user: UserPublic, } | { "kind": "declined", user_id: number, } | { "kind": "removed", user_id: number, } | { "kind": "remark", user_id: number, remark: string | null, } | { "kind": "blocked", user_id: number, blocked: boolean, };

export type JoinPolicy = "free" | "approval" | "invite_only";

export type GroupInfo = { conversation_id: number, name: string, avatar: string | null, announcement: string | null, join_policy: JoinPolicy, mute_all: boolean, owner_id: number, member_count: number, max_members: number, dissolved: boolean, 
/**
 * The caller's own view: role (absent if not a member), remark, nickname, mute.
 */
my_role: Role | null, my_remark: string | null, my_nickname: string | null, muted_until: number | null, 
/**
 * Only for owners and admins.
 */
invite_code: string | null, 
/**
 * `@assistant` mentions get an answer from the AI assistant.
 */
assistant_enabled: boolean, };

export type GroupUsers = { conversation_id: number, user_ids: Array<number>, };

export type GroupUser = { conversation_id: number, user_id: number, };

export type GroupJoin = { conversation_id?: number | null, invite_code?: string | null, 
/**
 * A note for the admins when approval is needed.
 */
note?: string | null, };

export type JoinOutcome = "joined" | "pending";

export type GroupJoinResponse = { conversation_id: number, outcome: JoinOutcome, };

export type JoinRequest = { conversation_id: number, user: UserPublic, note: string | null, created_at: number, };

export type JoinRequestsResponse = { requests: Array<JoinRequest>, };

export type GroupSetRole = { conversation_id: number, user_id: number, 
/**
 * `admin` or `member` (ownership moves with `group_transfer`).
 */
role: Role, };

export type GroupUpdate = { conversation_id: number, name?: string | null, avatar?: string | null, announcement?: string | null, join_policy?: JoinPolicy | null, mute_all?: boolean | null, 
/**
 * Let `@assistant` answer in this group.
 */
assistant_enabled?: boolean | null, };

export type GroupText = { conversation_id: number, text: string, };

export type GroupMute = { conversation_id: number, user_id: number, 
/**
 * How long; 0 lifts the mute.
 */
duration_secs: number, };

export type InviteCodeRequest = { conversation_id: number, 
/**
 * Replace the current code (the old one stops working).
 */
reset: boolean, };

export type InviteCodeResponse = { conversation_id: number, invite_code: string, };

export type SetMuted = { conversation_id: number, muted: boolean, };

export type ConversationChanged = { conversation_id: number, };

export type MediaKind = "image" | "voice" | "video" | "file";

export type MediaRef = { 
/**
 * 64 lowercase hex characters.
 */
id: string, 
/**
 * Detected from the content, e.g. `image/png`.
 */
mime: string, 
/**
 * Bytes.
 */
size: number, };

export type Thumbnail = { width: number, height: number, };

export type UploadResponse = { kind: MediaKind, content: Content, 
/**
 * A signed, short-lived path for the blob (relative to the server's base URL).
 */
url: string, 
/**
 * The same for the thumbnail or poster, when there is one.
 */
thumbnail_url: string | null, 
/**
 * When the signed paths stop working.
 */
expires_at: number, 
/**
 * The same bytes were already stored: nothing new was written.
 */
duplicate: boolean, };

export type MediaUrlRequest = { media_id: string, 
/**
 * The thumbnail (image) or poster frame (video) instead of the blob.
 */
thumbnail?: boolean, };

export type MediaUrlResponse = { 
/**
 * `/api/v1/media/{id}?u=…&exp=…&sig=…`: usable by an `<img>` or `<video>` tag without a
 * token, until `expires_at`, and only while the user may still see the blob.
 */
url: string, expires_at: number, };

export type AssistantReply = { 
/**
 * The whole reply (what was produced, for a stopped reply); for a failed reply, the
 * notice explaining what went wrong.
 */
text: string, status: ReplyStatus, 
/**
 * Matches the `reply_id` of the [`AssistantDelta`] events that streamed it.
 */
reply_id: string, 
/**
 * Why it failed (only with `status: failed`).
 */
failure?: AssistantFailure | null, };

export type ReplyStatus = "complete" | "stopped" | "failed";

export type AssistantFailure = "not_configured" | "unauthorized" | "upstream_rate_limited" | "rate_limited" | "upstream_error" | "malformed_response" | "timeout" | "unreachable" | "busy";

export type AssistantDelta = { conversation_id: number, reply_id: string, 
/**
 * Text to append to what arrived before under this `reply_id` (empty on the last delta).
 */
delta: string, done: boolean, 
/**
 * With `done`: where the final message was stored.
 */
seq?: number | null, 
/**
 * With `done`: how the reply ended.
 */
status?: ReplyStatus | null, };

export type AssistantStop = { conversation_id: number, };

export type AssistantStopResponse = { 
/**
 * False when nothing was being generated there.
 */
stopped: boolean, reply_id?: string | null, };

export type AssistantSummarize = { conversation_id: number, };

export type AssistantTranslate = { conversation_id: number, seq: number, language: string, };

export type AssistantTaskResponse = { task_id: string, };

export type AssistantTaskKind = "summary" | "translation";

export type AssistantResult = { task_id: string, kind: AssistantTaskKind, conversation_id: number, 
/**
 * The translated message (translations only).
 */
seq?: number | null, 
/**
 * The summary or translation; on failure, the notice saying why.
 */
text: string, failure?: AssistantFailure | null, 
/**
 * How many unread messages the summary covers (summaries only).
 */
message_count?: number | null, };

export type AssistantStatus = { configured: boolean, 
/**
 * The bot user (absent when not configured).
 */
bot?: UserPublic | null, model?: string | null, };
