//! The [`Client`]: one device's connection to a Confab server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use confab_proto::http::{LoginRequest, LoginResponse, RegisterRequest};
use confab_proto::{
    BlockedResponse, ClientFrame, Content, ConversationId, ConversationRef, ConversationSummary,
    CreateGroup, Device, DeviceId, DevicesResponse, Empty, Friend, FriendRequestSend,
    FriendRequestsResponse, FriendsResponse, GetUser, GroupInfo, GroupJoin, GroupJoinResponse,
    GroupMute, GroupSetRole, GroupText, GroupUpdate, GroupUser, GroupUsers, Hello, HistoryRequest,
    HistoryResponse, InviteCodeRequest, InviteCodeResponse, JoinRequest, JoinRequestsResponse,
    MarkRead, MarkReadResponse, MediaKind, MediaUrlRequest, MediaUrlResponse, MembersRequest,
    MembersResponse, Message, Presence, PresenceRequest, PresenceResponse, ReadByRequest,
    ReadByResponse, RecallRequest, Request, RevokeDevice, Role, SearchUsers, SendRequest,
    SendResponse, Seq, SetFriendRemark, SetMuted, Settings, SyncResponse, Target, UpdateProfile,
    UploadResponse, UserId, UserPublic, UserRef, UsersPage,
};
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use tokio::sync::{mpsc, oneshot};

use crate::connection::{self, Command, Connection, Learn};
use crate::{ClientEvent, Endpoint, Error, Events, Result};

/// Settings of a [`Client`]. Build with [`ClientOptions::default`] and the setters:
///
/// ```
/// # use std::time::Duration;
/// let options = confab_sdk::ClientOptions::default()
///     .request_timeout(Duration::from_secs(5))
///     .reconnect(false);
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// How long a request waits for its answer (default 30 s), including any time spent
    /// waiting for a reconnect before it could be sent.
    pub request_timeout: Duration,
    /// How long opening the WebSocket and receiving `hello` may take (default 10 s).
    pub connect_timeout: Duration,
    /// Reconnect after a drop (default `true`).
    pub reconnect: bool,
    /// First delay before reconnecting (default 100 ms); it doubles on each failed attempt.
    pub backoff_initial: Duration,
    /// Longest delay between reconnect attempts (default 10 s).
    pub backoff_max: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            reconnect: true,
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
        }
    }
}

impl ClientOptions {
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    pub fn reconnect(mut self, reconnect: bool) -> Self {
        self.reconnect = reconnect;
        self
    }

    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff_initial = initial;
        self.backoff_max = max;
        self
    }
}

/// State shared between the [`Client`] handles and the connection task.
#[derive(Debug)]
pub(crate) struct State {
    hello: RwLock<Hello>,
    next_id: AtomicU64,
    connected: AtomicBool,
    /// Set by `close` and `logout`: a drop from now on is final.
    closing: AtomicBool,
    /// Why the connection ended for good, once it has.
    closed: Mutex<Option<(Option<u16>, String)>>,
}

impl State {
    fn new(hello: Hello) -> Self {
        State {
            hello: RwLock::new(hello),
            next_id: AtomicU64::new(1),
            connected: AtomicBool::new(true),
            closing: AtomicBool::new(false),
            closed: Mutex::new(None),
        }
    }

    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn hello(&self) -> Hello {
        self.hello.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_hello(&self, hello: Hello) {
        *self.hello.write().unwrap_or_else(|e| e.into_inner()) = hello;
    }

    pub(crate) fn set_connected(&self, connected: bool) {
        self.connected.store(connected, Ordering::Release);
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn set_closed(&self, code: Option<u16>, reason: String) {
        *self.closed.lock().unwrap_or_else(|e| e.into_inner()) = Some((code, reason));
    }

    /// The error for a request made after the connection ended for good.
    pub(crate) fn closed_error(&self) -> Error {
        let closed = self
            .closed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let (code, reason) = closed.unwrap_or((None, "the client is closed".to_string()));
        Error::Closed { code, reason }
    }
}

/// A device's connection to a Confab server: typed requests, and a stream of events.
///
/// Cloning is cheap and every clone drives the same connection; the connection closes when
/// [`Client::close`] is called or the last clone is dropped. A `Client` must be created and used
/// inside a Tokio runtime.
///
/// # Requests
///
/// Each method sends one request and waits for its answer, matched by id. A request fails with
/// [`Error::Timeout`] after [`ClientOptions::request_timeout`], and with [`Error::Disconnected`]
/// if the connection drops while it is in flight (it may or may not have been carried out; a
/// send retried with the same `client_msg_id` is stored only once). Requests made while the
/// client is reconnecting wait for the new connection, within the same timeout.
///
/// # Events and resuming
///
/// [`Client::next_event`] (or the [`Events`] stream from [`Client::take_events`]) yields each
/// conversation's messages once and in seq order. The client keeps, per conversation, the
/// highest seq it has delivered (its *position*); positions start unknown and are learnt from
/// the messages that arrive, from this device's own sends, and from every [`Client::sync`] the
/// application makes (a sync means the application has seen each conversation up to its
/// `last_seq`, so that becomes the position). With a position known, a pushed message beyond
/// the next seq means some were missed: they are pulled from history first.
///
/// After a reconnect the client syncs, pulls every conversation's missed range from history
/// (conversations that had activity since the client first connected but no known position
/// get their recent messages pulled), delivers it, and then reports
/// [`ClientEvent::Resynced`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    commands: mpsc::UnboundedSender<Command>,
    events: tokio::sync::Mutex<Option<Events>>,
    state: Arc<State>,
    options: ClientOptions,
    endpoint: Endpoint,
    /// For the HTTP media endpoints.
    token: String,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.endpoint.key())
            .field("connected", &self.is_connected())
            .finish_non_exhaustive()
    }
}

/// A file as a stream of 256 KiB chunks.
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Vec<u8>>> + Send + 'static {
    futures_util::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// A fresh idempotency key for a send: 16 random hex characters.
pub fn new_client_msg_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

impl Client {
    /// Create an account: `POST /api/v1/register`.
    pub async fn register(base_url: &str, request: RegisterRequest) -> Result<UserPublic> {
        crate::http::register(&Endpoint::parse(base_url)?, &request).await
    }

    /// Log in, creating a device session: `POST /api/v1/login`. Pass the returned token to
    /// [`Client::connect`].
    pub async fn login(base_url: &str, request: LoginRequest) -> Result<LoginResponse> {
        crate::http::login(&Endpoint::parse(base_url)?, &request).await
    }

    /// Connect with default [`ClientOptions`].
    pub async fn connect(base_url: &str, token: &str) -> Result<Client> {
        Client::connect_with(base_url, token, ClientOptions::default()).await
    }

    /// Open the WebSocket (`/ws?v=1`, the token in an `Authorization: Bearer` header), wait for
    /// the server's `hello`, and start the connection task.
    ///
    /// A token the server refuses gives [`Error::Server`] with code `invalid_token`,
    /// `token_expired` or `token_revoked`.
    pub async fn connect_with(
        base_url: &str,
        token: &str,
        options: ClientOptions,
    ) -> Result<Client> {
        let endpoint = Endpoint::parse(base_url)?;
        let (socket, hello) = connection::open(&endpoint, token, options.connect_timeout).await?;
        let state = Arc::new(State::new(hello));
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, event_rx) = mpsc::unbounded_channel();
        let connection = Connection::new(
            endpoint.clone(),
            token.to_string(),
            options.clone(),
            Arc::clone(&state),
            command_rx,
            event_tx,
        );
        tokio::spawn(connection.run(socket));
        Ok(Client {
            inner: Arc::new(Inner {
                commands,
                events: tokio::sync::Mutex::new(Some(Events::new(event_rx, Arc::clone(&state)))),
                state,
                options,
                endpoint,
                token: token.to_string(),
            }),
        })
    }

    /// The server's `hello` from the current connection: this user, this device, the server's
    /// limits and idle timeout.
    pub fn hello(&self) -> Hello {
        self.inner.state.hello()
    }

    /// This client's user (from `hello`).
    pub fn user(&self) -> UserPublic {
        self.hello().user
    }

    /// The server this client talks to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// Whether the WebSocket is up right now (false while reconnecting and after closing).
    pub fn is_connected(&self) -> bool {
        self.inner.state.connected.load(Ordering::Acquire)
    }

    // ---- events ------------------------------------------------------------------------

    /// The next event; `None` once the client is closed and every event was read, or if the
    /// stream was taken with [`Client::take_events`].
    pub async fn next_event(&self) -> Option<ClientEvent> {
        match self.inner.events.lock().await.as_mut() {
            Some(events) => events.next().await,
            None => None,
        }
    }

    /// The next event, or [`Error::Timeout`] if none arrives in time.
    pub async fn next_event_timeout(&self, timeout: Duration) -> Result<ClientEvent> {
        match self.inner.events.lock().await.as_mut() {
            Some(events) => events.next_timeout(timeout).await,
            None => Err(self.inner.state.closed_error()),
        }
    }

    /// Skip events until one satisfies `accept`, all within `timeout`.
    pub async fn wait_for_event(
        &self,
        timeout: Duration,
        accept: impl FnMut(&ClientEvent) -> bool,
    ) -> Result<ClientEvent> {
        match self.inner.events.lock().await.as_mut() {
            Some(events) => events.wait_for(timeout, accept).await,
            None => Err(self.inner.state.closed_error()),
        }
    }

    /// Skip events until a message arrives, within `timeout`.
    pub async fn next_message(&self, timeout: Duration) -> Result<Message> {
        match self.inner.events.lock().await.as_mut() {
            Some(events) => events.next_message(timeout).await,
            None => Err(self.inner.state.closed_error()),
        }
    }

    /// Take the event stream to own it (e.g. to read it in another task, or to drop it when
    /// the application does not want events). `None` if it was already taken.
    pub async fn take_events(&self) -> Option<Events> {
        self.inner.events.lock().await.take()
    }

    // ---- requests ----------------------------------------------------------------------

    /// Send any request and decode its answer as `T` (see each [`Request`] variant for the
    /// type of its answer; [`Empty`] for `{}`).
    pub async fn request<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let body = self.request_raw(request).await?;
        Ok(serde_json::from_str(body.get())?)
    }

    async fn request_raw(&self, request: Request) -> Result<Box<RawValue>> {
        let learn = match &request {
            Request::Sync => Learn::Positions,
            Request::Send(_) | Request::Recall(_) => Learn::OwnSeq,
            Request::Logout => Learn::Logout,
            _ => Learn::Nothing,
        };
        let id = self.inner.state.next_id();
        let frame = ClientFrame { id, request }.encode();
        let (reply, answer) = oneshot::channel();
        let command = Command::Request {
            id,
            frame,
            learn,
            reply,
        };
        if self.inner.commands.send(command).is_err() {
            return Err(self.inner.state.closed_error());
        }
        match tokio::time::timeout(self.inner.options.request_timeout, answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(self.inner.state.closed_error()),
            Err(_) => {
                let _ = self.inner.commands.send(Command::Forget(id));
                Err(Error::Timeout)
            }
        }
    }

    async fn request_empty(&self, request: Request) -> Result<()> {
        self.request::<Empty>(request).await.map(|_| ())
    }

    /// Keep the connection alive (the client also pings by itself).
    pub async fn ping(&self) -> Result<()> {
        self.request_empty(Request::Ping).await
    }

    pub async fn get_user(&self, user_id: UserId) -> Result<UserPublic> {
        self.request(Request::GetUser(GetUser {
            user_id: Some(user_id),
            username: None,
        }))
        .await
    }

    pub async fn get_user_by_name(&self, username: &str) -> Result<UserPublic> {
        self.request(Request::GetUser(GetUser {
            user_id: None,
            username: Some(username.to_string()),
        }))
        .await
    }

    /// Change this user's profile; fields left `None` stay as they are.
    pub async fn update_profile(&self, update: UpdateProfile) -> Result<UserPublic> {
        self.request(Request::UpdateProfile(update)).await
    }

    /// This user's logged-in devices (`current` marks this one).
    pub async fn list_devices(&self) -> Result<Vec<Device>> {
        let answer: DevicesResponse = self.request(Request::ListDevices).await?;
        Ok(answer.devices)
    }

    /// End another device's session; it is disconnected.
    pub async fn revoke_device(&self, device_id: DeviceId) -> Result<()> {
        self.request_empty(Request::RevokeDevice(RevokeDevice { device_id }))
            .await
    }

    /// Revoke this device's session on the server and close the client. If the connection
    /// drops before the answer, the client stays closed all the same (the session may or may
    /// not have been revoked; logging out again with the same token tells).
    pub async fn logout(&self) -> Result<()> {
        self.inner.state.closing.store(true, Ordering::Release);
        match self.request_empty(Request::Logout).await {
            Ok(()) => {
                self.close().await?;
                Ok(())
            }
            Err(e) => {
                if !matches!(e, Error::Disconnected | Error::Closed { .. }) {
                    self.inner.state.closing.store(false, Ordering::Release);
                }
                Err(e)
            }
        }
    }

    /// Send a message. The answer comes once the message is durably stored.
    pub async fn send(&self, request: SendRequest) -> Result<SendResponse> {
        self.request(Request::Send(request)).await
    }

    /// Send a text message with a fresh `client_msg_id`.
    pub async fn send_text(&self, to: Target, text: impl Into<String>) -> Result<SendResponse> {
        self.send(SendRequest {
            to,
            client_msg_id: new_client_msg_id(),
            content: Content::text(text),
            reply_to: None,
            mentions: Vec::new(),
            mention_all: false,
        })
        .await
    }

    /// Every conversation with its position, read state and unread count. Each
    /// conversation's `last_seq` becomes the client's known position for it (see [`Client`]).
    pub async fn sync(&self) -> Result<SyncResponse> {
        self.request(Request::Sync).await
    }

    pub async fn get_conversation(
        &self,
        conversation_id: ConversationId,
    ) -> Result<ConversationSummary> {
        self.request(Request::GetConversation(ConversationRef {
            conversation_id,
        }))
        .await
    }

    /// A page of a conversation's messages, in ascending seq order.
    pub async fn history(&self, request: HistoryRequest) -> Result<HistoryResponse> {
        self.request(Request::History(request)).await
    }

    /// Mark the conversation read up to and including `seq`.
    pub async fn mark_read(
        &self,
        conversation_id: ConversationId,
        seq: Seq,
    ) -> Result<MarkReadResponse> {
        self.request(Request::MarkRead(MarkRead {
            conversation_id,
            seq,
        }))
        .await
    }

    /// Recall one's own message; the answer holds the seq of the recall event.
    pub async fn recall(&self, conversation_id: ConversationId, seq: Seq) -> Result<SendResponse> {
        self.request(Request::Recall(RecallRequest {
            conversation_id,
            seq,
        }))
        .await
    }

    /// Tell the other members this user is typing.
    pub async fn typing(&self, conversation_id: ConversationId) -> Result<()> {
        self.request_empty(Request::Typing(ConversationRef { conversation_id }))
            .await
    }

    /// Create a group with these members besides this user, who becomes its owner.
    pub async fn create_group(
        &self,
        name: impl Into<String>,
        members: Vec<UserId>,
    ) -> Result<ConversationSummary> {
        self.request(Request::CreateGroup(CreateGroup {
            name: name.into(),
            members,
        }))
        .await
    }

    /// A page of a conversation's members, ordered by user id.
    pub async fn members(&self, request: MembersRequest) -> Result<MembersResponse> {
        self.request(Request::Members(request)).await
    }

    /// Who (besides the sender) has read the message at `seq`.
    pub async fn read_by(
        &self,
        conversation_id: ConversationId,
        seq: Seq,
    ) -> Result<ReadByResponse> {
        self.request(Request::ReadBy(ReadByRequest {
            conversation_id,
            seq,
        }))
        .await
    }

    /// Whether these users are online.
    pub async fn presence(&self, user_ids: Vec<UserId>) -> Result<Vec<Presence>> {
        let answer: PresenceResponse = self
            .request(Request::Presence(PresenceRequest { user_ids }))
            .await?;
        Ok(answer.presence)
    }

    /// Mute or unmute notifications for a conversation: this user's own preference, shown to
    /// all their devices as [`ConversationSummary::muted`]. Any member may do it, in direct
    /// chats too.
    pub async fn set_muted(&self, conversation_id: ConversationId, muted: bool) -> Result<()> {
        self.request_empty(Request::SetMuted(SetMuted {
            conversation_id,
            muted,
        }))
        .await
    }

    // ---- people ------------------------------------------------------------------------

    /// The first page of users whose username starts with `query` or whose display name
    /// contains it (case-insensitively), this user excluded. Use
    /// [`Client::search_users_page`] for more pages.
    pub async fn search_users(&self, query: impl Into<String>) -> Result<UsersPage> {
        self.search_users_page(SearchUsers {
            query: query.into(),
            after: None,
            limit: None,
        })
        .await
    }

    /// A page of a user search; pass the last user id of a page as `after` for the next.
    pub async fn search_users_page(&self, request: SearchUsers) -> Result<UsersPage> {
        self.request(Request::SearchUsers(request)).await
    }

    /// Ask `user_id` to be friends, with an optional note (at most 200 characters). If they
    /// had already asked this user, the two become friends at once. Fails with
    /// `already_exists` when already friends, and `not_allowed` when either blocked the other.
    pub async fn friend_request(&self, user_id: UserId, note: Option<String>) -> Result<()> {
        self.request_empty(Request::FriendRequest(FriendRequestSend { user_id, note }))
            .await
    }

    /// Accept the pending friend request from `user_id`; `not_found` if there is none.
    pub async fn friend_accept(&self, user_id: UserId) -> Result<Friend> {
        self.request(Request::FriendAccept(UserRef { user_id }))
            .await
    }

    /// Decline the pending friend request from `user_id`; `not_found` if there is none.
    pub async fn friend_decline(&self, user_id: UserId) -> Result<()> {
        self.request_empty(Request::FriendDecline(UserRef { user_id }))
            .await
    }

    /// End the friendship with `user_id` (for both); `not_found` if they are not friends.
    pub async fn friend_delete(&self, user_id: UserId) -> Result<()> {
        self.request_empty(Request::FriendDelete(UserRef { user_id }))
            .await
    }

    /// This user's friends, each with this user's remark for them.
    pub async fn friends(&self) -> Result<Vec<Friend>> {
        let answer: FriendsResponse = self.request(Request::Friends).await?;
        Ok(answer.friends)
    }

    /// Pending friend requests: those sent to this user and those this user sent.
    pub async fn friend_requests(&self) -> Result<FriendRequestsResponse> {
        self.request(Request::FriendRequests).await
    }

    /// Set this user's private remark (alias) for a friend; an empty `remark` clears it.
    pub async fn friend_remark(&self, user_id: UserId, remark: impl Into<String>) -> Result<()> {
        self.request_empty(Request::FriendRemark(SetFriendRemark {
            user_id,
            remark: remark.into(),
        }))
        .await
    }

    /// Block a user: neither can send the other direct messages or friend requests.
    pub async fn block(&self, user_id: UserId) -> Result<()> {
        self.request_empty(Request::Block(UserRef { user_id }))
            .await
    }

    /// Lift a block.
    pub async fn unblock(&self, user_id: UserId) -> Result<()> {
        self.request_empty(Request::Unblock(UserRef { user_id }))
            .await
    }

    /// The users this user blocked.
    pub async fn blocked(&self) -> Result<Vec<UserPublic>> {
        let answer: BlockedResponse = self.request(Request::Blocked).await?;
        Ok(answer.users)
    }

    /// This user's settings (who may open a direct chat with them).
    pub async fn get_settings(&self) -> Result<Settings> {
        self.request(Request::GetSettings).await
    }

    /// Replace this user's settings; the answer is the settings now in force.
    pub async fn update_settings(&self, settings: Settings) -> Result<Settings> {
        self.request(Request::UpdateSettings(settings)).await
    }

    // ---- group administration ----------------------------------------------------------

    /// A group's settings and this user's own view of it (role, remark, nickname, mute; the
    /// invite code for owners and admins).
    pub async fn group_info(&self, conversation_id: ConversationId) -> Result<GroupInfo> {
        self.request(Request::GroupInfo(ConversationRef { conversation_id }))
            .await
    }

    /// Add users to a group (owners and admins; any member when the join policy is `free`).
    /// Users already in it are skipped; `already_exists` if that leaves nobody to add.
    pub async fn group_invite(
        &self,
        conversation_id: ConversationId,
        user_ids: Vec<UserId>,
    ) -> Result<()> {
        self.request_empty(Request::GroupInvite(GroupUsers {
            conversation_id,
            user_ids,
        }))
        .await
    }

    /// Join a group by id (per its join policy: at once when `free`, a request waiting for
    /// approval when `approval`, `not_allowed` when `invite_only`) or by invite code (at once).
    /// The answer tells whether this user joined or waits.
    pub async fn group_join(&self, join: GroupJoin) -> Result<GroupJoinResponse> {
        self.request(Request::GroupJoin(join)).await
    }

    /// Pending join requests of a group (owners and admins).
    pub async fn group_join_requests(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<JoinRequest>> {
        let answer: JoinRequestsResponse = self
            .request(Request::GroupJoinRequests(ConversationRef {
                conversation_id,
            }))
            .await?;
        Ok(answer.requests)
    }

    /// Approve `user_id`'s join request: they become a member (owners and admins).
    pub async fn group_approve(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<()> {
        self.request_empty(Request::GroupApprove(GroupUser {
            conversation_id,
            user_id,
        }))
        .await
    }

    /// Reject `user_id`'s join request (owners and admins).
    pub async fn group_reject(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<()> {
        self.request_empty(Request::GroupReject(GroupUser {
            conversation_id,
            user_id,
        }))
        .await
    }

    /// Leave a group. The owner must transfer ownership first, unless alone in it.
    pub async fn group_leave(&self, conversation_id: ConversationId) -> Result<()> {
        self.request_empty(Request::GroupLeave(ConversationRef { conversation_id }))
            .await
    }

    /// Remove a member: the owner may remove admins and members, an admin only members.
    pub async fn group_kick(&self, conversation_id: ConversationId, user_id: UserId) -> Result<()> {
        self.request_empty(Request::GroupKick(GroupUser {
            conversation_id,
            user_id,
        }))
        .await
    }

    /// Dissolve a group (owner only). It stays readable; nothing new can happen in it.
    pub async fn group_dissolve(&self, conversation_id: ConversationId) -> Result<()> {
        self.request_empty(Request::GroupDissolve(ConversationRef { conversation_id }))
            .await
    }

    /// Hand ownership to another member (owner only); the old owner becomes an admin.
    pub async fn group_transfer(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<()> {
        self.request_empty(Request::GroupTransfer(GroupUser {
            conversation_id,
            user_id,
        }))
        .await
    }

    /// Make a member an admin or a plain member again (owner only). Ownership moves with
    /// [`Client::group_transfer`]; [`Role::Owner`] here is `invalid_argument`.
    pub async fn group_set_role(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        role: Role,
    ) -> Result<()> {
        self.request_empty(Request::GroupSetRole(GroupSetRole {
            conversation_id,
            user_id,
            role,
        }))
        .await
    }

    /// Change a group's name, avatar, announcement, join policy or mute-all (owners and
    /// admins); fields left `None` stay as they are, an empty avatar or announcement clears
    /// it. Each change is recorded as a system event. The answer is the group afterwards.
    ///
    /// ```no_run
    /// # async fn example(client: confab_sdk::Client) -> confab_sdk::Result<()> {
    /// use confab_sdk::proto::{GroupUpdate, JoinPolicy};
    /// let info = client
    ///     .group_update(GroupUpdate {
    ///         conversation_id: 9,
    ///         announcement: Some("standup at 10".into()),
    ///         join_policy: Some(JoinPolicy::InviteOnly),
    ///         ..GroupUpdate::default()
    ///     })
    ///     .await?;
    /// assert_eq!(info.announcement.as_deref(), Some("standup at 10"));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn group_update(&self, update: GroupUpdate) -> Result<GroupInfo> {
        self.request(Request::GroupUpdate(update)).await
    }

    /// Set this user's private remark for a group (at most 64 characters); empty clears it.
    pub async fn group_remark(
        &self,
        conversation_id: ConversationId,
        text: impl Into<String>,
    ) -> Result<()> {
        self.request_empty(Request::GroupRemark(GroupText {
            conversation_id,
            text: text.into(),
        }))
        .await
    }

    /// Set this user's nickname in a group (at most 32 characters), seen by every member;
    /// empty clears it.
    pub async fn group_nickname(
        &self,
        conversation_id: ConversationId,
        text: impl Into<String>,
    ) -> Result<()> {
        self.request_empty(Request::GroupNickname(GroupText {
            conversation_id,
            text: text.into(),
        }))
        .await
    }

    /// Stop a member from sending for `duration` (whole seconds, rounded up; at most 30 days);
    /// [`Duration::ZERO`] lifts the mute. The owner may mute admins and members, an admin only
    /// members.
    pub async fn group_mute(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        duration: Duration,
    ) -> Result<()> {
        let duration_secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
        self.request_empty(Request::GroupMute(GroupMute {
            conversation_id,
            user_id,
            duration_secs,
        }))
        .await
    }

    /// The group's invite code (owners and admins), made on first use; with `reset`, a new one
    /// replaces it and the old code stops working. Anyone with the code joins with
    /// [`Client::group_join`].
    pub async fn group_invite_code(
        &self,
        conversation_id: ConversationId,
        reset: bool,
    ) -> Result<String> {
        let answer: InviteCodeResponse = self
            .request(Request::GroupInviteCode(InviteCodeRequest {
                conversation_id,
                reset,
            }))
            .await?;
        Ok(answer.invite_code)
    }

    // ---- media -------------------------------------------------------------------------

    /// Upload a file from disk, streamed (never read into memory whole). `kind` declares what
    /// it is (the server refuses a declaration the content contradicts); `None` lets the
    /// server decide from the content. The answer's `content` can be sent with
    /// [`Client::send_media`].
    pub async fn upload_file(
        &self,
        path: &std::path::Path,
        kind: Option<MediaKind>,
    ) -> Result<UploadResponse> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| Error::Io(e.to_string()))?;
        let length = file
            .metadata()
            .await
            .map_err(|e| Error::Io(e.to_string()))?
            .len();
        let name = path.file_name().and_then(|n| n.to_str());
        let body = reqwest::Body::wrap_stream(file_stream(file));
        crate::http::upload(
            &self.inner.endpoint,
            &self.inner.token,
            body,
            Some(length),
            name,
            kind,
        )
        .await
    }

    /// Upload bytes held in memory, under an optional file name.
    pub async fn upload_bytes(
        &self,
        bytes: Vec<u8>,
        name: Option<&str>,
        kind: Option<MediaKind>,
    ) -> Result<UploadResponse> {
        let length = bytes.len() as u64;
        crate::http::upload(
            &self.inner.endpoint,
            &self.inner.token,
            bytes.into(),
            Some(length),
            name,
            kind,
        )
        .await
    }

    /// Send an uploaded blob as a message (the `content` of an [`UploadResponse`]).
    pub async fn send_media(&self, to: Target, content: Content) -> Result<SendResponse> {
        self.send(SendRequest {
            to,
            client_msg_id: new_client_msg_id(),
            content,
            reply_to: None,
            mentions: Vec::new(),
            mention_all: false,
        })
        .await
    }

    /// A short-lived signed path for a blob (or its thumbnail), for tags and links that cannot
    /// send a token. Relative to the server's base URL.
    pub async fn media_url(&self, media_id: &str, thumbnail: bool) -> Result<MediaUrlResponse> {
        self.request(Request::MediaUrl(MediaUrlRequest {
            media_id: media_id.to_string(),
            thumbnail,
        }))
        .await
    }

    /// Download a blob (or its thumbnail) into `dest`, streamed; returns the byte count.
    pub async fn download(
        &self,
        media_id: &str,
        thumbnail: bool,
        dest: &std::path::Path,
    ) -> Result<u64> {
        use tokio::io::AsyncWriteExt;
        let path = if thumbnail {
            format!("api/v1/media/{media_id}/thumb")
        } else {
            format!("api/v1/media/{media_id}")
        };
        let mut response =
            crate::http::download(&self.inner.endpoint, &self.inner.token, &path).await?;
        let io = |e: std::io::Error| Error::Io(e.to_string());
        let mut file = tokio::fs::File::create(dest).await.map_err(io)?;
        let mut written = 0u64;
        while let Some(chunk) = response.chunk().await? {
            file.write_all(&chunk).await.map_err(io)?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(io)?;
        Ok(written)
    }

    /// Whether the server has an AI assistant, and its bot user.
    pub async fn assistant_status(&self) -> Result<confab_proto::AssistantStatus> {
        self.request(Request::AssistantStatus).await
    }

    /// Stop the assistant's reply being generated in a conversation; what it produced so far
    /// is stored, marked stopped.
    pub async fn assistant_stop(
        &self,
        conversation_id: ConversationId,
    ) -> Result<confab_proto::AssistantStopResponse> {
        self.request(Request::AssistantStop(confab_proto::AssistantStop {
            conversation_id,
        }))
        .await
    }

    /// Ask for a summary of this user's unread messages in a conversation. The answer holds a
    /// task id; the summary arrives as an `assistant_result` event (see [`Client::await_result`]).
    pub async fn assistant_summarize(
        &self,
        conversation_id: ConversationId,
    ) -> Result<confab_proto::AssistantTaskResponse> {
        self.request(Request::AssistantSummarize(
            confab_proto::AssistantSummarize { conversation_id },
        ))
        .await
    }

    /// Ask for a translation of one message into `language`; the result arrives as an
    /// `assistant_result` event.
    pub async fn assistant_translate(
        &self,
        conversation_id: ConversationId,
        seq: Seq,
        language: impl Into<String>,
    ) -> Result<confab_proto::AssistantTaskResponse> {
        self.request(Request::AssistantTranslate(
            confab_proto::AssistantTranslate {
                conversation_id,
                seq,
                language: language.into(),
            },
        ))
        .await
    }

    /// Waits for the `assistant_result` of a summarize or translate task (other events are
    /// consumed while waiting).
    pub async fn await_result(
        &self,
        task_id: &str,
        timeout: Duration,
    ) -> Result<confab_proto::AssistantResult> {
        let event = self
            .wait_for_event(timeout, |e| {
                matches!(e, ClientEvent::Server(confab_proto::Event::AssistantResult(r)) if r.task_id == task_id)
            })
            .await?;
        match event {
            ClientEvent::Server(confab_proto::Event::AssistantResult(r)) => Ok(r),
            _ => unreachable!("filtered above"),
        }
    }

    /// Close the connection gracefully: requests still waiting fail with [`Error::Closed`], the
    /// client does not reconnect, and the event stream ends. Closing twice is harmless.
    pub async fn close(&self) -> Result<()> {
        self.inner.state.closing.store(true, Ordering::Release);
        let (done, finished) = oneshot::channel();
        if self.inner.commands.send(Command::Close { done }).is_err() {
            return Ok(());
        }
        let wait = self
            .inner
            .options
            .connect_timeout
            .max(Duration::from_secs(1));
        let _ = tokio::time::timeout(wait, finished).await;
        Ok(())
    }
}
