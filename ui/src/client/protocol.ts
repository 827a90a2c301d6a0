// Typed view of the wire protocol on top of the generated declarations: which request `type`
// answers with which body. Kept by hand next to `generated.ts` (the doc comment of each
// `Request` variant in proto/src/request.rs names its response type).

import type {
  AssistantStatus,
  AssistantStopResponse,
  AssistantTaskResponse,
  BlockedResponse,
  MediaUrlResponse,
  ConversationSummary,
  DevicesResponse,
  Empty,
  Event,
  Friend,
  FriendRequestsResponse,
  FriendsResponse,
  GroupInfo,
  GroupJoinResponse,
  Hello,
  HistoryResponse,
  InviteCodeResponse,
  JoinRequestsResponse,
  MarkReadResponse,
  MembersResponse,
  PresenceResponse,
  ReadByResponse,
  Request,
  SendResponse,
  Settings,
  SyncResponse,
  UserPublic,
  UsersPage,
} from '../protocol/generated';

export * from '../protocol/generated';

/** The body of the `ok` answer for each request type. */
export interface ResponseMap {
  auth: Hello;
  ping: Empty;
  get_user: UserPublic;
  update_profile: UserPublic;
  list_devices: DevicesResponse;
  revoke_device: Empty;
  logout: Empty;
  send: SendResponse;
  sync: SyncResponse;
  get_conversation: ConversationSummary;
  history: HistoryResponse;
  mark_read: MarkReadResponse;
  recall: SendResponse;
  typing: Empty;
  create_group: ConversationSummary;
  members: MembersResponse;
  read_by: ReadByResponse;
  presence: PresenceResponse;
  set_muted: Empty;
  search_users: UsersPage;
  friend_request: Empty;
  friend_accept: Friend;
  friend_decline: Empty;
  friend_delete: Empty;
  friends: FriendsResponse;
  friend_requests: FriendRequestsResponse;
  friend_remark: Empty;
  block: Empty;
  unblock: Empty;
  blocked: BlockedResponse;
  get_settings: Settings;
  update_settings: Settings;
  group_info: GroupInfo;
  group_invite: Empty;
  group_join: GroupJoinResponse;
  group_join_requests: JoinRequestsResponse;
  group_approve: Empty;
  group_reject: Empty;
  group_leave: Empty;
  group_kick: Empty;
  group_dissolve: Empty;
  group_transfer: Empty;
  group_set_role: Empty;
  group_update: GroupInfo;
  group_remark: Empty;
  group_nickname: Empty;
  group_mute: Empty;
  group_invite_code: InviteCodeResponse;
  media_url: MediaUrlResponse;
  assistant_status: AssistantStatus;
  assistant_stop: AssistantStopResponse;
  assistant_summarize: AssistantTaskResponse;
  assistant_translate: AssistantTaskResponse;
}

export type RequestType = Request['type'];

/** The `data` a request type carries (`undefined` for those without a body). */
export type RequestData<K extends RequestType> =
  Extract<Request, { type: K }> extends { data: infer D } ? D : undefined;

/** Request types that carry no `data`. */
export type BodylessRequestType = {
  [K in RequestType]: RequestData<K> extends undefined ? K : never;
}[RequestType];

export type EventName = Event['event'];
export type EventData<K extends EventName> = Extract<Event, { event: K }>['data'];

/** Compile-time check that every request type has a response entry and no extra ones. */
type Exact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export const RESPONSE_MAP_IS_COMPLETE: Exact<keyof ResponseMap, RequestType> = true;

/** WebSocket close codes (see `confab_proto::close`). */
export const CloseCode = {
  SLOW_CONSUMER: 4000,
  SERVER_SHUTDOWN: 4001,
  IDLE_TIMEOUT: 4002,
  AUTH_FAILED: 4100,
  SESSION_REVOKED: 4101,
  UNSUPPORTED_VERSION: 4102,
} as const;

/** 4100–4199 are terminal for these credentials; everything else is worth a reconnect. */
export function shouldReconnect(code: number): boolean {
  return !(code >= 4100 && code < 4200);
}
