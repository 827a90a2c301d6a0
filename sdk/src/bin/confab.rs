//! `confab`: the Confab command-line client.
//!
//! Every command takes `--server URL` (env `CONFAB_SERVER`) and `--json` (one JSON object per
//! line on stdout). Logins are kept per server in `credentials.json` (see
//! `confab_sdk::credentials`). Commands name people by username and conversations (groups
//! included) by id. Errors go to stderr as `error: <code>: <message>` with exit
//! status 1; usage errors exit with status 2. `CONFAB_LOG` (e.g. `confab_sdk=trace`) turns on
//! diagnostics on stderr.

use std::collections::HashMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{Local, TimeZone};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use confab_sdk::credentials::{CredentialStore, Credentials};
use confab_sdk::proto::http::{LoginRequest, RegisterRequest};
use confab_sdk::proto::{
    ContactEvent, Content, ConversationKind, ConversationSummary, DirectPolicy, Event, GroupInfo,
    GroupJoin, GroupUpdate, HistoryRequest, JoinOutcome, JoinPolicy, MediaKind, MembersRequest,
    Message, Millis, Role, SearchUsers, SendRequest, Settings, SystemEvent, Target, UserId,
    UserPublic,
};
use confab_sdk::{
    new_client_msg_id, Client, ClientEvent, ClientOptions, Endpoint, Error, DEFAULT_SERVER,
};
use serde::Serialize;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "confab",
    version,
    about = "Command-line client for the Confab messaging server"
)]
struct Cli {
    /// Server base URL.
    #[arg(long, global = true, env = "CONFAB_SERVER", default_value = DEFAULT_SERVER)]
    server: String,
    /// Print one JSON object per line on stdout (for scripts).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an account.
    Register {
        username: String,
        /// The password; otherwise $CONFAB_PASSWORD, otherwise a line read from stdin.
        #[arg(long, env = "CONFAB_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
    },
    /// Log in and keep the session's token for the other commands.
    Login {
        username: String,
        /// The password; otherwise $CONFAB_PASSWORD, otherwise a line read from stdin.
        #[arg(long, env = "CONFAB_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Name of this device in the device list.
        #[arg(long, default_value = "confab-cli")]
        device: String,
    },
    /// End this device's session on the server and forget its token.
    Logout,
    /// Show the logged-in user and device.
    Whoami,
    /// List this user's logged-in devices.
    Devices,
    /// End another device's session.
    Revoke { device_id: i64 },
    /// Send a text message.
    Send(SendArgs),
    /// Upload a file and send it; the message type (image, voice, video or file) follows from
    /// the content, not the name.
    SendFile(SendFileArgs),
    /// Download a blob by its media id (from a message's `media.id`).
    Download {
        media_id: String,
        /// Where to write it (default: the file name for files, otherwise the media id).
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The thumbnail or poster frame instead of the blob.
        #[arg(long)]
        thumbnail: bool,
    },
    /// Show a page of a conversation's messages.
    History {
        conversation: i64,
        /// Only messages before this seq (the newest of them).
        #[arg(long)]
        before: Option<i64>,
        /// Only messages after this seq (the oldest of them).
        #[arg(long)]
        after: Option<i64>,
        /// Page size (server default 50).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// List conversations with their unread counts.
    Conversations,
    /// Mark a conversation read.
    Read {
        conversation: i64,
        /// Read up to this seq (default: the newest message).
        #[arg(long)]
        seq: Option<i64>,
    },
    /// Recall one of your messages.
    Recall { conversation: i64, seq: i64 },
    /// Create and run groups: members, roles, invitations, moderation and settings.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Friends, friend requests and blocking.
    #[command(subcommand)]
    Friend(FriendCommand),
    /// Find people by username (its start) or display name (any part), ignoring case.
    Search {
        query: String,
        /// Show at most this many (server default 20, at most 100).
        #[arg(long)]
        limit: Option<u32>,
    },
    /// Show your settings, or change them with the options.
    Settings {
        /// Who may open a direct chat with you.
        #[arg(long, value_enum)]
        direct_messages: Option<DirectMessages>,
    },
    /// Ask the AI assistant in your direct chat with it; the reply prints as it streams.
    Ask {
        /// The question (several words are joined with spaces).
        #[arg(required = true)]
        question: Vec<String>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300.0)]
        timeout: f64,
    },
    /// Summarize your unread messages in a conversation (only you see the summary).
    Summarize {
        conversation: i64,
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
    },
    /// Translate one message of a conversation.
    Translate {
        conversation: i64,
        seq: i64,
        /// The language to translate into ("French", "de", …).
        #[arg(long)]
        to: String,
        #[arg(long, default_value_t = 120.0)]
        timeout: f64,
    },
    /// Print incoming events, one per line. Connection news goes to stderr.
    Listen {
        /// Exit after this many events.
        #[arg(long)]
        count: Option<usize>,
        /// Exit after this many seconds (an error if --count events did not arrive by then).
        #[arg(long)]
        timeout: Option<f64>,
    },
}

#[derive(Args)]
#[command(group(ArgGroup::new("target").required(true).args(["to", "conversation"])))]
struct SendArgs {
    /// Username of the person to write to (their direct conversation).
    #[arg(long)]
    to: Option<String>,
    /// Conversation id to write in.
    #[arg(long)]
    conversation: Option<i64>,
    /// Seq of the message this one replies to.
    #[arg(long)]
    reply_to: Option<i64>,
    /// The text (several words are joined with spaces).
    #[arg(required = true)]
    text: Vec<String>,
}

#[derive(Args)]
#[command(group(ArgGroup::new("target").required(true).args(["to", "conversation"])))]
struct SendFileArgs {
    /// The file to send.
    path: PathBuf,
    /// Username of the person to send it to (their direct conversation).
    #[arg(long)]
    to: Option<String>,
    /// Conversation id to send it in.
    #[arg(long)]
    conversation: Option<i64>,
    /// Send it as a plain file even if it is a picture, recording or video.
    #[arg(long)]
    as_file: bool,
}

/// Group commands name the group by its conversation id and people by username. Texts of
/// several words are joined with spaces; an empty text ("") clears a remark, nickname or
/// announcement.
#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group; you become its owner.
    Create {
        name: String,
        /// Usernames to add, separated by commas.
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    /// List a group's members with their roles, nicknames and mutes.
    Members { conversation: i64 },
    /// Show a group's settings and your place in it.
    Info { conversation: i64 },
    /// Show the group's invite code (owners and admins).
    Code {
        conversation: i64,
        /// Replace the code with a new one; the old one stops working.
        #[arg(long)]
        reset: bool,
    },
    /// Add people to a group.
    Invite {
        conversation: i64,
        #[arg(required = true)]
        users: Vec<String>,
    },
    /// Join a group by its id (per its join policy) or by an invite code.
    #[command(group(ArgGroup::new("which").required(true).args(["conversation", "code"])))]
    Join {
        conversation: Option<i64>,
        /// An invite code from an owner or admin.
        #[arg(long)]
        code: Option<String>,
        /// A note for the admins when the group needs approval.
        #[arg(long)]
        note: Option<String>,
    },
    /// List the requests waiting to join a group (owners and admins).
    Requests { conversation: i64 },
    /// Let someone who asked into the group.
    Approve { conversation: i64, user: String },
    /// Turn down a join request.
    Reject { conversation: i64, user: String },
    /// Leave a group (an owner hands over ownership first).
    Leave { conversation: i64 },
    /// Remove a member from a group.
    Kick { conversation: i64, user: String },
    /// Dissolve a group for everyone (owner only).
    Dissolve { conversation: i64 },
    /// Hand the group's ownership to a member; you become an admin.
    Transfer { conversation: i64, user: String },
    /// Make a member an admin (owner only).
    Admin {
        conversation: i64,
        user: String,
        /// Make them a plain member again instead.
        #[arg(long)]
        remove: bool,
    },
    /// Set the group's announcement ("" clears it).
    Announce {
        conversation: i64,
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Rename a group.
    Rename {
        conversation: i64,
        #[arg(required = true)]
        name: Vec<String>,
    },
    /// Set how people who were not invited get in.
    Policy {
        conversation: i64,
        #[arg(value_enum)]
        policy: Policy,
    },
    /// Set your private remark for a group ("" clears it).
    Remark {
        conversation: i64,
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Set your nickname in a group ("" clears it).
    Nick {
        conversation: i64,
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Stop a member from sending for a while: 90 (seconds), 10m, 2h, 1d, 1h30m; 0 lifts it.
    Mute {
        conversation: i64,
        user: String,
        #[arg(value_parser = parse_duration)]
        duration: Duration,
    },
    /// Let only the owner and admins send (on), or everyone again (off).
    MuteAll {
        conversation: i64,
        #[arg(value_enum)]
        state: Switch,
    },
}

/// Friend commands name people by username.
#[derive(Subcommand)]
enum FriendCommand {
    /// Ask someone to be friends (if they already asked you, you are friends at once).
    Request {
        user: String,
        /// A short note for them.
        #[arg(long)]
        note: Option<String>,
    },
    /// Accept a friend request.
    Accept { user: String },
    /// Decline a friend request.
    Decline { user: String },
    /// List your friends with your remarks for them.
    List,
    /// List pending friend requests, incoming and outgoing.
    Requests,
    /// End a friendship.
    Delete { user: String },
    /// Block someone: no direct messages or friend requests either way.
    Block { user: String },
    /// Lift a block.
    Unblock { user: String },
    /// List the people you blocked.
    Blocked,
    /// Set your private remark for a friend ("" clears it).
    Remark {
        user: String,
        #[arg(required = true)]
        text: Vec<String>,
    },
}

/// `--direct-messages`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DirectMessages {
    /// Only friends may open a direct chat with you.
    #[value(name = "friends_only", alias = "friends-only")]
    FriendsOnly,
    /// Anyone may.
    Anyone,
}

impl From<DirectMessages> for DirectPolicy {
    fn from(value: DirectMessages) -> Self {
        match value {
            DirectMessages::FriendsOnly => DirectPolicy::FriendsOnly,
            DirectMessages::Anyone => DirectPolicy::Anyone,
        }
    }
}

/// A group's join policy on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Policy {
    /// Anyone who knows the group id joins at once.
    Free,
    /// Join requests wait for an owner or admin.
    Approval,
    /// Only by invitation or invite code.
    #[value(name = "invite_only", alias = "invite-only")]
    InviteOnly,
}

impl From<Policy> for JoinPolicy {
    fn from(value: Policy) -> Self {
        match value {
            Policy::Free => JoinPolicy::Free,
            Policy::Approval => JoinPolicy::Approval,
            Policy::InviteOnly => JoinPolicy::InviteOnly,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Switch {
    On,
    Off,
}

/// A duration as `90` (seconds), `10m`, `2h`, `1d`, `1w` or a sum like `1h30m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    const HINT: &str = "a duration looks like 90 (seconds), 30s, 10m, 2h, 1d, 1h30m, or 0";
    let text = text.trim();
    if text.is_empty() {
        return Err(HINT.to_string());
    }
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            _ => return Err(HINT.to_string()),
        };
        let n: u64 = number.parse().map_err(|_| HINT.to_string())?;
        number.clear();
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(|| "that duration is too long".to_string())?;
    }
    if !number.is_empty() {
        return Err(HINT.to_string());
    }
    Ok(Duration::from_secs(total))
}

/// Seconds as the shortest of `1d2h3m4s` (`0s` for none).
fn format_duration(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let mut left = secs;
    let mut out = String::new();
    for (unit, name) in [(86_400, 'd'), (3600, 'h'), (60, 'm'), (1, 's')] {
        if left >= unit {
            out.push_str(&format!("{}{name}", left / unit));
            left %= unit;
        }
    }
    out
}

/// A failure as the user sees it: `error: <code>: <message>`.
struct Failure {
    code: String,
    message: String,
}

impl Failure {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Failure {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let hint = if e.is_auth_failure() {
            " (log in again with `confab login`)"
        } else {
            ""
        };
        match e {
            Error::Server(wire) => {
                Failure::new(wire.code.as_str(), format!("{}{hint}", wire.message))
            }
            other => Failure::new(other.kind(), other.to_string()),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::new("io", e.to_string())
    }
}

type CliResult<T = ()> = Result<T, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Diagnostics on stderr when asked for, e.g. CONFAB_LOG=confab_sdk=trace.
    if std::env::var_os("CONFAB_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("CONFAB_LOG"))
            .with_writer(io::stderr)
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: io: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}: {}", failure.code, failure.message);
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> CliResult {
    let app = App {
        endpoint: Endpoint::parse(&cli.server)?,
        out: Output { json: cli.json },
    };
    match cli.command {
        Command::Register {
            username,
            password,
            display_name,
        } => app.register(username, password, display_name).await,
        Command::Login {
            username,
            password,
            device,
        } => app.login(username, password, device).await,
        Command::Logout => app.logout().await,
        Command::Whoami => app.whoami().await,
        Command::Devices => app.devices().await,
        Command::Revoke { device_id } => app.revoke(device_id).await,
        Command::Send(args) => app.send(args).await,
        Command::SendFile(args) => app.send_file(args).await,
        Command::Download {
            media_id,
            output,
            thumbnail,
        } => app.download(media_id, output, thumbnail).await,
        Command::History {
            conversation,
            before,
            after,
            limit,
        } => {
            let request = HistoryRequest {
                conversation_id: conversation,
                before,
                after,
                limit,
            };
            app.history(request).await
        }
        Command::Conversations => app.conversations().await,
        Command::Read { conversation, seq } => app.read(conversation, seq).await,
        Command::Recall { conversation, seq } => app.recall(conversation, seq).await,
        Command::Group(command) => app.group(command).await,
        Command::Friend(command) => app.friend(command).await,
        Command::Search { query, limit } => app.search(query, limit).await,
        Command::Settings { direct_messages } => app.settings(direct_messages).await,
        Command::Listen { count, timeout } => app.listen(count, timeout).await,
        Command::Ask { question, timeout } => app.ask(question.join(" "), timeout).await,
        Command::Summarize {
            conversation,
            timeout,
        } => app.summarize(conversation, timeout).await,
        Command::Translate {
            conversation,
            seq,
            to,
            timeout,
        } => app.translate(conversation, seq, to, timeout).await,
    }
}

struct App {
    endpoint: Endpoint,
    out: Output,
}

impl App {
    // ---- accounts ----------------------------------------------------------------------

    async fn register(
        &self,
        username: String,
        password: Option<String>,
        display_name: Option<String>,
    ) -> CliResult {
        let password = password_or_prompt(password)?;
        let request = RegisterRequest {
            username,
            password,
            display_name,
        };
        let user = Client::register(&self.endpoint.key(), request).await?;
        self.out.json_or(&user, || {
            format!("registered {} (user {})", user.username, user.id)
        })
    }

    async fn login(&self, username: String, password: Option<String>, device: String) -> CliResult {
        let password = password_or_prompt(password)?;
        let request = LoginRequest {
            username,
            password,
            device_name: Some(device),
        };
        let login = Client::login(&self.endpoint.key(), request).await?;
        let path = credentials_path()?;
        let mut store = CredentialStore::load(&path)?;
        store.insert(self.endpoint.key(), Credentials::from(&login));
        store.save(&path)?;
        let summary = json!({
            "user": login.user,
            "device_id": login.device_id,
            "expires_at": login.expires_at,
        });
        self.out.json_or(&summary, || {
            format!(
                "logged in as {} (user {}) on device {}",
                login.user.username, login.user.id, login.device_id
            )
        })
    }

    async fn logout(&self) -> CliResult {
        let credentials = self.credentials()?;
        let outcome = match self.connect(&credentials, false).await {
            Ok(client) => client.logout().await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => {}
            // The session had already ended: forgetting the token is all that is left.
            Err(e) if e.is_auth_failure() => {}
            Err(e) => return Err(e.into()),
        }
        self.forget_credentials()?;
        self.out.json_or(&json!({ "logged_out": true }), || {
            format!("logged out {} from {}", credentials.username, self.endpoint)
        })
    }

    async fn whoami(&self) -> CliResult {
        let credentials = self.credentials()?;
        let client = self.connect(&credentials, false).await?;
        let hello = client.hello();
        let info = json!({
            "user": hello.user,
            "device_id": hello.device_id,
            "server": self.endpoint.key(),
        });
        let result = self.out.json_or(&info, || {
            format!(
                "{} ({}), user {}, device {} on {}",
                hello.user.username,
                hello.user.display_name,
                hello.user.id,
                hello.device_id,
                self.endpoint
            )
        });
        client.close().await?;
        result
    }

    async fn devices(&self) -> CliResult {
        let client = self.client().await?;
        let devices = client.list_devices().await?;
        if self.out.json {
            for device in &devices {
                self.out.json(device)?;
            }
        } else {
            let mut table = Table::new(["", "ID", "NAME", "CREATED", "LAST USED", "EXPIRES"]);
            table.align_right(1);
            for d in &devices {
                table.row([
                    if d.current { "*" } else { "" }.to_string(),
                    d.id.to_string(),
                    d.name.clone(),
                    format_time(d.created_at),
                    format_time(d.last_used_at),
                    format_time(d.expires_at),
                ]);
            }
            self.out.table(&table)?;
        }
        client.close().await?;
        Ok(())
    }

    async fn revoke(&self, device_id: i64) -> CliResult {
        let credentials = self.credentials()?;
        let client = self.connect(&credentials, false).await?;
        client.revoke_device(device_id).await?;
        client.close().await?;
        if device_id == credentials.device_id {
            self.forget_credentials()?;
        }
        self.out
            .json_or(&json!({ "device_id": device_id, "revoked": true }), || {
                format!("revoked device {device_id}")
            })
    }

    // ---- messages ----------------------------------------------------------------------

    async fn send(&self, args: SendArgs) -> CliResult {
        let client = self.client().await?;
        let to = match (args.to, args.conversation) {
            (Some(username), _) => Target::User(client.get_user_by_name(&username).await?.id),
            (None, Some(conversation)) => Target::Conversation(conversation),
            (None, None) => unreachable!("clap requires --to or --conversation"),
        };
        let request = SendRequest {
            to,
            client_msg_id: new_client_msg_id(),
            content: Content::text(args.text.join(" ")),
            reply_to: args.reply_to,
            mentions: Vec::new(),
            mention_all: false,
        };
        let sent = client.send(request).await?;
        client.close().await?;
        self.out.json_or(&sent, || {
            format!(
                "sent #{} in conversation {}{}",
                sent.seq,
                sent.conversation_id,
                if sent.duplicate {
                    " (already stored)"
                } else {
                    ""
                }
            )
        })
    }

    async fn send_file(&self, args: SendFileArgs) -> CliResult {
        let client = self.client().await?;
        let to = match (args.to, args.conversation) {
            (Some(username), _) => Target::User(client.get_user_by_name(&username).await?.id),
            (None, Some(conversation)) => Target::Conversation(conversation),
            (None, None) => unreachable!("clap requires --to or --conversation"),
        };
        let kind = args.as_file.then_some(MediaKind::File);
        let uploaded = client.upload_file(&args.path, kind).await?;
        let sent = client.send_media(to, uploaded.content.clone()).await?;
        client.close().await?;
        let media = uploaded.content.media().cloned();
        let id = media.as_ref().map(|m| m.id.clone()).unwrap_or_default();
        self.out.json_or(
            &json!({"sent": sent, "kind": uploaded.kind, "content": uploaded.content}),
            || {
                format!(
                    "sent {} {} ({} bytes) as #{} in conversation {}",
                    uploaded.kind.as_str(),
                    id,
                    media.map_or(0, |m| m.size),
                    sent.seq,
                    sent.conversation_id
                )
            },
        )
    }

    async fn download(
        &self,
        media_id: String,
        output: Option<PathBuf>,
        thumbnail: bool,
    ) -> CliResult {
        let client = self.client().await?;
        let dest = output.unwrap_or_else(|| {
            PathBuf::from(if thumbnail {
                format!("{media_id}.thumb.jpg")
            } else {
                media_id.clone()
            })
        });
        let bytes = client.download(&media_id, thumbnail, &dest).await?;
        client.close().await?;
        self.out.json_or(
            &json!({"media_id": media_id, "path": dest, "bytes": bytes}),
            || format!("wrote {bytes} bytes to {}", dest.display()),
        )
    }

    async fn history(&self, request: HistoryRequest) -> CliResult {
        let client = self.client().await?;
        let page = client.history(request).await?;
        if self.out.json {
            for message in &page.messages {
                self.out.json(message)?;
            }
        } else {
            let mut names = Names::new(&client);
            let mut table = Table::new(["SEQ", "SENDER", "TIME", "TEXT"]);
            table.align_right(0);
            for m in &page.messages {
                table.row([
                    m.seq.to_string(),
                    names.get(m.sender_id).await,
                    format_time(m.created_at),
                    describe(&mut names, m).await,
                ]);
            }
            if page.messages.is_empty() {
                self.out.line("(no messages)")?;
            } else {
                self.out.table(&table)?;
            }
            if page.has_more {
                self.out.line("(more messages exist beyond this page)")?;
            }
        }
        client.close().await?;
        Ok(())
    }

    async fn conversations(&self) -> CliResult {
        let client = self.client().await?;
        let sync = client.sync().await?;
        if self.out.json {
            for conversation in &sync.conversations {
                self.out.json(conversation)?;
            }
        } else if sync.conversations.is_empty() {
            self.out.line("(no conversations)")?;
        } else {
            let mut names = Names::new(&client);
            let mut table = Table::new(["ID", "KIND", "NAME", "UNREAD", "LAST", "PREVIEW"]);
            table.align_right(0);
            table.align_right(3);
            table.align_right(4);
            for c in &sync.conversations {
                table.row([
                    c.id.to_string(),
                    kind_name(c.kind).to_string(),
                    c.name.clone(),
                    unread_label(c),
                    c.last_seq.to_string(),
                    preview(&mut names, c).await,
                ]);
            }
            self.out.table(&table)?;
        }
        client.close().await?;
        Ok(())
    }

    async fn read(&self, conversation: i64, seq: Option<i64>) -> CliResult {
        let client = self.client().await?;
        let seq = match seq {
            Some(seq) => seq,
            None => client.get_conversation(conversation).await?.last_seq,
        };
        let read = client.mark_read(conversation, seq).await?;
        client.close().await?;
        self.out.json_or(&read, || {
            format!(
                "conversation {} read up to #{} ({} unread)",
                read.conversation_id, read.read_seq, read.unread
            )
        })
    }

    async fn recall(&self, conversation: i64, seq: i64) -> CliResult {
        let client = self.client().await?;
        let recalled = client.recall(conversation, seq).await?;
        client.close().await?;
        self.out.json_or(&recalled, || {
            format!(
                "recalled #{seq} in conversation {} (event #{})",
                recalled.conversation_id, recalled.seq
            )
        })
    }

    // ---- groups ------------------------------------------------------------------------

    async fn create_group(&self, client: &Client, name: String, members: Vec<String>) -> CliResult {
        let members: Vec<&String> = members.iter().filter(|m| !m.trim().is_empty()).collect();
        let mut ids = Vec::new();
        for username in members {
            ids.push(client.get_user_by_name(username.trim()).await?.id);
        }
        let group = client.create_group(name, ids).await?;
        self.out.json_or(&group, || {
            let plural = if group.member_count == 1 { "" } else { "s" };
            format!(
                "created group {} \"{}\" with {} member{plural}",
                group.id, group.name, group.member_count
            )
        })
    }

    /// Run a group command other than `create`, closing the connection whatever happens.
    async fn group(&self, command: GroupCommand) -> CliResult {
        let client = self.client().await?;
        let result = self.group_with(&client, command).await;
        client.close().await?;
        result
    }

    async fn group_with(&self, client: &Client, command: GroupCommand) -> CliResult {
        match command {
            GroupCommand::Create { name, members } => {
                self.create_group(client, name, members).await
            }
            GroupCommand::Members { conversation } => self.members(client, conversation).await,
            GroupCommand::Info { conversation } => {
                let info = client.group_info(conversation).await?;
                if self.out.json {
                    return self.out.json(&info);
                }
                let mut names = Names::new(client);
                for line in group_info_lines(&mut names, &info).await {
                    self.out.line(&line)?;
                }
                Ok(())
            }
            GroupCommand::Code {
                conversation,
                reset,
            } => {
                let code = client.group_invite_code(conversation, reset).await?;
                let answer = json!({ "conversation_id": conversation, "invite_code": code });
                self.out.json_or(&answer, || {
                    format!(
                        "invite code of group {conversation}: {code} \
                         (join with `confab group join --code {code}`)"
                    )
                })
            }
            GroupCommand::Invite {
                conversation,
                users,
            } => {
                let users = resolve_users(client, &users).await?;
                let ids = users.iter().map(|u| u.id).collect();
                client.group_invite(conversation, ids).await?;
                let answer = json!({ "conversation_id": conversation, "invited": users });
                self.out.json_or(&answer, || {
                    format!(
                        "invited {} to group {conversation}",
                        usernames(&users).join(", ")
                    )
                })
            }
            GroupCommand::Join {
                conversation,
                code,
                note,
            } => {
                let joined = client
                    .group_join(GroupJoin {
                        conversation_id: conversation,
                        invite_code: code,
                        note,
                    })
                    .await?;
                self.out.json_or(&joined, || match joined.outcome {
                    JoinOutcome::Joined => format!("joined group {}", joined.conversation_id),
                    JoinOutcome::Pending => format!(
                        "asked to join group {}; an owner or admin has to approve",
                        joined.conversation_id
                    ),
                })
            }
            GroupCommand::Requests { conversation } => {
                let requests = client.group_join_requests(conversation).await?;
                if self.out.json {
                    for request in &requests {
                        self.out.json(request)?;
                    }
                    return Ok(());
                }
                if requests.is_empty() {
                    return self.out.line("(no pending join requests)");
                }
                let mut table = Table::new(["ID", "USERNAME", "NAME", "ASKED", "NOTE"]);
                table.align_right(0);
                for r in &requests {
                    table.row([
                        r.user.id.to_string(),
                        r.user.username.clone(),
                        r.user.display_name.clone(),
                        format_time(r.created_at),
                        r.note.clone().unwrap_or_default(),
                    ]);
                }
                self.out.table(&table)
            }
            GroupCommand::Approve { conversation, user } => {
                let user = client.get_user_by_name(&user).await?;
                client.group_approve(conversation, user.id).await?;
                let answer =
                    json!({ "conversation_id": conversation, "user": user, "approved": true });
                self.out.json_or(&answer, || {
                    format!("{} joined group {conversation}", user.username)
                })
            }
            GroupCommand::Reject { conversation, user } => {
                let user = client.get_user_by_name(&user).await?;
                client.group_reject(conversation, user.id).await?;
                let answer =
                    json!({ "conversation_id": conversation, "user": user, "approved": false });
                self.out.json_or(&answer, || {
                    format!(
                        "turned down {}'s request to join group {conversation}",
                        user.username
                    )
                })
            }
            GroupCommand::Leave { conversation } => {
                client.group_leave(conversation).await?;
                let answer = json!({ "conversation_id": conversation, "left": true });
                self.out
                    .json_or(&answer, || format!("left group {conversation}"))
            }
            GroupCommand::Kick { conversation, user } => {
                let user = client.get_user_by_name(&user).await?;
                client.group_kick(conversation, user.id).await?;
                let answer =
                    json!({ "conversation_id": conversation, "user": user, "kicked": true });
                self.out.json_or(&answer, || {
                    format!("removed {} from group {conversation}", user.username)
                })
            }
            GroupCommand::Dissolve { conversation } => {
                client.group_dissolve(conversation).await?;
                let answer = json!({ "conversation_id": conversation, "dissolved": true });
                self.out
                    .json_or(&answer, || format!("dissolved group {conversation}"))
            }
            GroupCommand::Transfer { conversation, user } => {
                let user = client.get_user_by_name(&user).await?;
                client.group_transfer(conversation, user.id).await?;
                let answer = json!({ "conversation_id": conversation, "owner": user });
                self.out.json_or(&answer, || {
                    format!(
                        "{} now owns group {conversation}; you are an admin",
                        user.username
                    )
                })
            }
            GroupCommand::Admin {
                conversation,
                user,
                remove,
            } => {
                let user = client.get_user_by_name(&user).await?;
                let role = if remove { Role::Member } else { Role::Admin };
                client.group_set_role(conversation, user.id, role).await?;
                let answer = json!({ "conversation_id": conversation, "user": user, "role": role });
                self.out.json_or(&answer, || {
                    if remove {
                        format!(
                            "{} is no longer an admin of group {conversation}",
                            user.username
                        )
                    } else {
                        format!("{} is now an admin of group {conversation}", user.username)
                    }
                })
            }
            GroupCommand::Announce { conversation, text } => {
                let text = text.join(" ");
                let human = if text.trim().is_empty() {
                    format!("cleared the announcement of group {conversation}")
                } else {
                    format!("updated the announcement of group {conversation}")
                };
                let update = GroupUpdate {
                    announcement: Some(text),
                    ..update_of(conversation)
                };
                self.group_update(client, update, Some(human)).await
            }
            GroupCommand::Rename { conversation, name } => {
                let update = GroupUpdate {
                    name: Some(name.join(" ")),
                    ..update_of(conversation)
                };
                self.group_update(client, update, None).await
            }
            GroupCommand::Policy {
                conversation,
                policy,
            } => {
                let update = GroupUpdate {
                    join_policy: Some(policy.into()),
                    ..update_of(conversation)
                };
                self.group_update(client, update, None).await
            }
            GroupCommand::MuteAll {
                conversation,
                state,
            } => {
                let update = GroupUpdate {
                    mute_all: Some(state == Switch::On),
                    ..update_of(conversation)
                };
                self.group_update(client, update, None).await
            }
            GroupCommand::Remark { conversation, text } => {
                let text = text.join(" ");
                client.group_remark(conversation, text.as_str()).await?;
                let remark = non_empty(&text);
                let answer = json!({ "conversation_id": conversation, "remark": remark });
                self.out.json_or(&answer, || match &remark {
                    Some(remark) => format!("your remark for group {conversation}: \"{remark}\""),
                    None => format!("cleared your remark for group {conversation}"),
                })
            }
            GroupCommand::Nick { conversation, text } => {
                let text = text.join(" ");
                client.group_nickname(conversation, text.as_str()).await?;
                let nickname = non_empty(&text);
                let answer = json!({ "conversation_id": conversation, "nickname": nickname });
                self.out.json_or(&answer, || match &nickname {
                    Some(nickname) => {
                        format!("your nickname in group {conversation}: \"{nickname}\"")
                    }
                    None => format!("cleared your nickname in group {conversation}"),
                })
            }
            GroupCommand::Mute {
                conversation,
                user,
                duration,
            } => {
                let user = client.get_user_by_name(&user).await?;
                client.group_mute(conversation, user.id, duration).await?;
                let secs = duration.as_secs();
                let answer =
                    json!({ "conversation_id": conversation, "user": user, "duration_secs": secs });
                self.out.json_or(&answer, || {
                    if secs == 0 {
                        format!("{} may send in group {conversation} again", user.username)
                    } else {
                        format!(
                            "muted {} in group {conversation} for {}",
                            user.username,
                            format_duration(secs)
                        )
                    }
                })
            }
        }
    }

    /// Apply a group update and show the group afterwards: its JSON, else `human` or a line
    /// describing the new state.
    async fn group_update(
        &self,
        client: &Client,
        update: GroupUpdate,
        human: Option<String>,
    ) -> CliResult {
        let info = client.group_update(update.clone()).await?;
        if self.out.json {
            return self.out.json(&info);
        }
        if let Some(human) = human {
            return self.out.line(&human);
        }
        let id = info.conversation_id;
        let line = if update.name.is_some() {
            format!("renamed group {id} to \"{}\"", info.name)
        } else if update.join_policy.is_some() {
            format!("group {id} join policy: {}", policy_label(info.join_policy))
        } else if info.mute_all {
            format!("group {id} is muted: only the owner and admins can send")
        } else {
            format!("group {id} is no longer muted: everyone can send")
        };
        self.out.line(&line)
    }

    async fn members(&self, client: &Client, conversation: i64) -> CliResult {
        let mut members = Vec::new();
        let mut after_user = None;
        loop {
            let page = client
                .members(MembersRequest {
                    conversation_id: conversation,
                    after_user,
                    limit: None,
                })
                .await?;
            after_user = page.members.last().map(|m| m.user.id);
            members.extend(page.members);
            if !page.has_more || after_user.is_none() {
                break;
            }
        }
        if self.out.json {
            for member in &members {
                self.out.json(member)?;
            }
            return Ok(());
        }
        let now = chrono::Utc::now().timestamp_millis();
        let mut table = Table::new([
            "ID",
            "USERNAME",
            "NAME",
            "NICKNAME",
            "ROLE",
            "MUTED UNTIL",
            "READ",
        ]);
        table.align_right(0);
        table.align_right(6);
        for m in &members {
            table.row([
                m.user.id.to_string(),
                m.user.username.clone(),
                m.user.display_name.clone(),
                m.nickname.clone().unwrap_or_default(),
                m.role.as_str().to_string(),
                m.muted_until
                    .filter(|&until| until > now)
                    .map(format_time)
                    .unwrap_or_default(),
                m.read_seq.to_string(),
            ]);
        }
        self.out.table(&table)
    }

    // ---- people ------------------------------------------------------------------------

    /// Run a friend command, closing the connection whatever happens.
    async fn friend(&self, command: FriendCommand) -> CliResult {
        let client = self.client().await?;
        let result = self.friend_with(&client, command).await;
        client.close().await?;
        result
    }

    async fn friend_with(&self, client: &Client, command: FriendCommand) -> CliResult {
        match command {
            FriendCommand::Request { user, note } => {
                let user = client.get_user_by_name(&user).await?;
                client.friend_request(user.id, note).await?;
                // Had they asked first, the request made the two friends at once.
                let pending = client
                    .friend_requests()
                    .await?
                    .outgoing
                    .iter()
                    .any(|r| r.to.id == user.id);
                let status = if pending { "pending" } else { "friends" };
                let answer = json!({ "user": user, "status": status });
                self.out.json_or(&answer, || {
                    if pending {
                        format!("friend request sent to {}", user.username)
                    } else {
                        format!("you and {} are now friends", user.username)
                    }
                })
            }
            FriendCommand::Accept { user } => {
                let user = client.get_user_by_name(&user).await?;
                let friend = client.friend_accept(user.id).await?;
                self.out.json_or(&friend, || {
                    format!("you and {} are now friends", friend.user.username)
                })
            }
            FriendCommand::Decline { user } => {
                let user = client.get_user_by_name(&user).await?;
                client.friend_decline(user.id).await?;
                let answer = json!({ "user": user, "declined": true });
                self.out.json_or(&answer, || {
                    format!("declined {}'s friend request", user.username)
                })
            }
            FriendCommand::Delete { user } => {
                let user = client.get_user_by_name(&user).await?;
                client.friend_delete(user.id).await?;
                let answer = json!({ "user": user, "deleted": true });
                self.out.json_or(&answer, || {
                    format!("you and {} are no longer friends", user.username)
                })
            }
            FriendCommand::Block { user } => {
                let user = client.get_user_by_name(&user).await?;
                client.block(user.id).await?;
                let answer = json!({ "user": user, "blocked": true });
                self.out
                    .json_or(&answer, || format!("blocked {}", user.username))
            }
            FriendCommand::Unblock { user } => {
                let user = client.get_user_by_name(&user).await?;
                client.unblock(user.id).await?;
                let answer = json!({ "user": user, "blocked": false });
                self.out
                    .json_or(&answer, || format!("unblocked {}", user.username))
            }
            FriendCommand::Remark { user, text } => {
                let user = client.get_user_by_name(&user).await?;
                let text = text.join(" ");
                client.friend_remark(user.id, text.as_str()).await?;
                let remark = non_empty(&text);
                let answer = json!({ "user": user, "remark": remark });
                self.out.json_or(&answer, || match &remark {
                    Some(remark) => format!("your remark for {}: \"{remark}\"", user.username),
                    None => format!("cleared your remark for {}", user.username),
                })
            }
            FriendCommand::List => {
                let friends = client.friends().await?;
                if self.out.json {
                    for friend in &friends {
                        self.out.json(friend)?;
                    }
                    return Ok(());
                }
                if friends.is_empty() {
                    return self.out.line("(no friends yet)");
                }
                let mut table = Table::new(["ID", "USERNAME", "NAME", "REMARK", "SINCE"]);
                table.align_right(0);
                for f in &friends {
                    table.row([
                        f.user.id.to_string(),
                        f.user.username.clone(),
                        f.user.display_name.clone(),
                        f.remark.clone().unwrap_or_default(),
                        format_time(f.since),
                    ]);
                }
                self.out.table(&table)
            }
            FriendCommand::Requests => {
                let requests = client.friend_requests().await?;
                let all = requests
                    .incoming
                    .iter()
                    .map(|r| ("incoming", &r.from, r))
                    .chain(requests.outgoing.iter().map(|r| ("outgoing", &r.to, r)));
                if self.out.json {
                    for (direction, _, request) in all {
                        let mut value = serde_json::to_value(request)
                            .map_err(|e| Failure::new("internal", e.to_string()))?;
                        value["direction"] = json!(direction);
                        self.out.json(&value)?;
                    }
                    return Ok(());
                }
                let mut table = Table::new(["", "USERNAME", "NAME", "SENT", "NOTE"]);
                let mut any = false;
                for (direction, other, r) in all {
                    any = true;
                    table.row([
                        if direction == "incoming" {
                            "from"
                        } else {
                            "to"
                        }
                        .to_string(),
                        other.username.clone(),
                        other.display_name.clone(),
                        format_time(r.created_at),
                        r.note.clone().unwrap_or_default(),
                    ]);
                }
                if any {
                    self.out.table(&table)
                } else {
                    self.out.line("(no pending friend requests)")
                }
            }
            FriendCommand::Blocked => {
                let users = client.blocked().await?;
                self.users(&users, "(nobody blocked)")
            }
        }
    }

    async fn search(&self, query: String, limit: Option<u32>) -> CliResult {
        let client = self.client().await?;
        let found = client
            .search_users_page(SearchUsers {
                query,
                after: None,
                limit,
            })
            .await;
        client.close().await?;
        let page = found?;
        self.users(&page.users, "(nobody found)")?;
        if page.has_more && !self.out.json {
            self.out
                .line("(more people match: narrow the search or raise --limit)")?;
        }
        Ok(())
    }

    /// Users as JSON lines, or a table (`empty` when there are none).
    fn users(&self, users: &[UserPublic], empty: &str) -> CliResult {
        if self.out.json {
            for user in users {
                self.out.json(user)?;
            }
            return Ok(());
        }
        if users.is_empty() {
            return self.out.line(empty);
        }
        let mut table = Table::new(["ID", "USERNAME", "NAME", "STATUS"]);
        table.align_right(0);
        for u in users {
            table.row([
                u.id.to_string(),
                u.username.clone(),
                u.display_name.clone(),
                u.status_text.clone().unwrap_or_default(),
            ]);
        }
        self.out.table(&table)
    }

    async fn settings(&self, direct_messages: Option<DirectMessages>) -> CliResult {
        let client = self.client().await?;
        let settings = match direct_messages {
            Some(policy) => {
                client
                    .update_settings(Settings {
                        direct_messages: policy.into(),
                    })
                    .await
            }
            None => client.get_settings().await,
        };
        client.close().await?;
        let settings = settings?;
        self.out.json_or(&settings, || {
            let who = match settings.direct_messages {
                DirectPolicy::FriendsOnly => "friends only",
                DirectPolicy::Anyone => "anyone",
            };
            format!("direct messages: {who}")
        })
    }

    // ---- events ------------------------------------------------------------------------

    // ---- the AI assistant --------------------------------------------------------------

    async fn assistant_bot(&self, client: &Client) -> CliResult<confab_sdk::proto::UserPublic> {
        let status = client.assistant_status().await?;
        match (status.configured, status.bot) {
            (true, Some(bot)) => Ok(bot),
            _ => Err(Failure::new(
                "assistant_not_configured",
                "the AI assistant is not configured on this server",
            )),
        }
    }

    async fn ask(&self, question: String, timeout: f64) -> CliResult {
        let client = self.client().await?;
        let bot = self.assistant_bot(&client).await?;
        let sent = client.send_text(Target::User(bot.id), question).await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout.max(0.1));
        let mut reply_id: Option<String> = None;
        let mut printed = false;
        let outcome = loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = match client.next_event_timeout(left).await {
                Ok(e) => e,
                Err(Error::Timeout) => {
                    break Err(Failure::new(
                        "timeout",
                        "no answer from the assistant in time",
                    ))
                }
                Err(e) => break Err(e.into()),
            };
            match event {
                ClientEvent::Server(Event::AssistantDelta(d))
                    if d.conversation_id == sent.conversation_id
                        && reply_id.as_ref().is_none_or(|r| *r == d.reply_id) =>
                {
                    reply_id = Some(d.reply_id);
                    if !self.out.json && !d.delta.is_empty() {
                        let mut stdout = io::stdout().lock();
                        let _ = write!(stdout, "{}", d.delta).and_then(|()| stdout.flush());
                        printed = true;
                    }
                }
                ClientEvent::Server(Event::Message(m))
                    if m.conversation_id == sent.conversation_id
                        && m.sender_id == bot.id
                        && m.reply_to == Some(sent.seq) =>
                {
                    break Ok(m);
                }
                _ => {}
            }
        };
        client.close().await?;
        let message = outcome?;
        if self.out.json {
            return self.out.json(&message);
        }
        let Content::Assistant(reply) = &message.content else {
            return self.out.line(message.content.as_text().unwrap_or_default());
        };
        match reply.status {
            confab_sdk::proto::ReplyStatus::Complete if printed => self.out.line(""),
            confab_sdk::proto::ReplyStatus::Complete => self.out.line(&reply.text),
            confab_sdk::proto::ReplyStatus::Stopped => {
                self.out
                    .line(if printed { "\n(stopped)" } else { "(stopped)" })
            }
            confab_sdk::proto::ReplyStatus::Failed => {
                if printed {
                    self.out.line("")?;
                }
                Err(Failure::new("assistant_failed", reply.text.clone()))
            }
        }
    }

    async fn summarize(&self, conversation: i64, timeout: f64) -> CliResult {
        let client = self.client().await?;
        let task = client.assistant_summarize(conversation).await;
        self.task_result(client, task, timeout).await
    }

    async fn translate(&self, conversation: i64, seq: i64, to: String, timeout: f64) -> CliResult {
        let client = self.client().await?;
        let task = client.assistant_translate(conversation, seq, to).await;
        self.task_result(client, task, timeout).await
    }

    async fn task_result(
        &self,
        client: Client,
        task: confab_sdk::Result<confab_sdk::proto::AssistantTaskResponse>,
        timeout: f64,
    ) -> CliResult {
        let result = match task {
            Ok(task) => {
                client
                    .await_result(&task.task_id, Duration::from_secs_f64(timeout.max(0.1)))
                    .await
            }
            Err(e) => Err(e),
        };
        client.close().await?;
        let result = result?;
        if self.out.json {
            return self.out.json(&result);
        }
        match result.failure {
            Some(_) => Err(Failure::new("assistant_failed", result.text)),
            None => self.out.line(&result.text),
        }
    }

    async fn listen(&self, count: Option<usize>, timeout: Option<f64>) -> CliResult {
        let timeout = match timeout {
            Some(secs) if secs.is_finite() && secs >= 0.0 => Some(Duration::from_secs_f64(secs)),
            Some(_) => {
                return Err(Failure::new(
                    "invalid_argument",
                    "--timeout takes a number of seconds",
                ))
            }
            None => None,
        };
        let credentials = self.credentials()?;
        let client = self.connect(&credentials, true).await?;
        let mut events = client
            .take_events()
            .await
            .expect("a new client still has its events");
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut names = Names::new(&client);
        let mut seen = 0;
        while count.is_none_or(|n| seen < n) {
            let next = match deadline {
                Some(deadline) => match tokio::time::timeout_at(deadline, events.next()).await {
                    Ok(next) => next,
                    Err(_) => {
                        client.close().await?;
                        return match count {
                            Some(n) => Err(Failure::new(
                                "timeout",
                                format!("{seen} of {n} events arrived in time"),
                            )),
                            None => Ok(()),
                        };
                    }
                },
                None => events.next().await,
            };
            let Some(event) = next else {
                return Err(Failure::new("closed", "the connection closed"));
            };
            match event {
                ClientEvent::Server(event) => {
                    seen += 1;
                    if self.out.json {
                        self.out.json(&event)?;
                    } else {
                        let line = describe_event(&mut names, &event).await;
                        self.out.line(&line)?;
                    }
                }
                ClientEvent::Connected => eprintln!("connected again"),
                ClientEvent::Resynced => eprintln!("caught up"),
                ClientEvent::Disconnected { code, reason } => match code {
                    Some(code) => eprintln!("disconnected ({code}): {reason}"),
                    None => eprintln!("disconnected: {reason}"),
                },
            }
        }
        client.close().await?;
        Ok(())
    }

    // ---- sessions ----------------------------------------------------------------------

    fn credentials(&self) -> CliResult<Credentials> {
        let store = CredentialStore::load(&credentials_path()?)?;
        store.get(&self.endpoint.key()).cloned().ok_or_else(|| {
            Failure::new(
                "not_logged_in",
                format!(
                    "no saved login for {}; run `confab login USERNAME` first",
                    self.endpoint
                ),
            )
        })
    }

    fn forget_credentials(&self) -> CliResult {
        let path = credentials_path()?;
        let mut store = CredentialStore::load(&path)?;
        if store.remove(&self.endpoint.key()).is_some() {
            store.save(&path)?;
        }
        Ok(())
    }

    async fn connect(
        &self,
        credentials: &Credentials,
        reconnect: bool,
    ) -> confab_sdk::Result<Client> {
        let options = ClientOptions::default().reconnect(reconnect);
        Client::connect_with(&self.endpoint.key(), &credentials.token, options).await
    }

    /// Connect with the saved login, for a one-shot command.
    async fn client(&self) -> CliResult<Client> {
        let credentials = self.credentials()?;
        Ok(self.connect(&credentials, false).await?)
    }
}

fn credentials_path() -> CliResult<PathBuf> {
    CredentialStore::default_path()
        .ok_or_else(|| Failure::new("io", "no configuration folder found; set CONFAB_CONFIG_DIR"))
}

/// The password from `--password` or `$CONFAB_PASSWORD`, else one line of stdin.
fn password_or_prompt(given: Option<String>) -> CliResult<String> {
    if let Some(password) = given {
        return Ok(password);
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
        io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        return Err(Failure::new(
            "invalid_argument",
            "a password is needed (--password, $CONFAB_PASSWORD or stdin)",
        ));
    }
    Ok(password)
}

// ---- output --------------------------------------------------------------------------

struct Output {
    json: bool,
}

impl Output {
    /// Write one line to stdout and flush it. A closed pipe (`confab listen | head`) ends the
    /// program quietly.
    fn line(&self, line: &str) -> CliResult {
        let mut stdout = io::stdout().lock();
        let written = writeln!(stdout, "{line}").and_then(|()| stdout.flush());
        match written {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
            Err(e) => Err(e.into()),
        }
    }

    fn json<T: Serialize>(&self, value: &T) -> CliResult {
        let line =
            serde_json::to_string(value).map_err(|e| Failure::new("internal", e.to_string()))?;
        self.line(&line)
    }

    /// `value` as JSON with `--json`, else the human line.
    fn json_or<T: Serialize>(&self, value: &T, human: impl FnOnce() -> String) -> CliResult {
        if self.json {
            self.json(value)
        } else {
            self.line(&human())
        }
    }

    fn table(&self, table: &Table) -> CliResult {
        for line in table.render() {
            self.line(&line)?;
        }
        Ok(())
    }
}

/// Columns padded to their widest cell; the last column is never padded.
struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    fn new<const N: usize>(header: [&str; N]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            right: vec![false; N],
        }
    }

    fn align_right(&mut self, column: usize) {
        self.right[column] = true;
    }

    fn row<const N: usize>(&mut self, cells: [String; N]) {
        self.rows.push(cells.to_vec());
    }

    fn render(&self) -> Vec<String> {
        let columns = self.header.len();
        let mut widths = vec![0; columns];
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        std::iter::once(&self.header)
            .chain(&self.rows)
            .map(|row| {
                let cells: Vec<String> = row
                    .iter()
                    .enumerate()
                    .map(|(i, cell)| {
                        let pad = widths[i] - cell.chars().count();
                        if self.right[i] {
                            format!("{}{cell}", " ".repeat(pad))
                        } else if i + 1 == columns {
                            cell.clone()
                        } else {
                            format!("{cell}{}", " ".repeat(pad))
                        }
                    })
                    .collect();
                cells.join("  ").trim_end().to_string()
            })
            .collect()
    }
}

/// Local time as `YYYY-MM-DD HH:MM`.
fn format_time(millis: Millis) -> String {
    match Local.timestamp_millis_opt(millis).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M").to_string(),
        None => millis.to_string(),
    }
}

fn kind_name(kind: ConversationKind) -> &'static str {
    match kind {
        ConversationKind::Direct => "direct",
        ConversationKind::Group => "group",
    }
}

fn unread_label(c: &ConversationSummary) -> String {
    if c.mentioned {
        format!("@{}", c.unread)
    } else {
        c.unread.to_string()
    }
}

fn truncate(text: &str, max: usize) -> String {
    let one_line = text.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Usernames by id, looked up once each.
struct Names {
    /// Where unknown ids are looked up; without one they show as `#id`.
    client: Option<Client>,
    known: HashMap<UserId, String>,
}

impl Names {
    fn new(client: &Client) -> Self {
        Names {
            client: Some(client.clone()),
            known: HashMap::new(),
        }
    }

    async fn get(&mut self, id: UserId) -> String {
        if let Some(name) = self.known.get(&id) {
            return name.clone();
        }
        let found = match &self.client {
            Some(client) => client.get_user(id).await.ok(),
            None => None,
        };
        let name = found.map_or_else(|| format!("#{id}"), |user| user.username);
        self.known.insert(id, name.clone());
        name
    }

    async fn list(&mut self, ids: &[UserId]) -> String {
        let mut names = Vec::with_capacity(ids.len());
        for &id in ids {
            names.push(self.get(id).await);
        }
        names.join(", ")
    }

    /// This client's own user, known from `hello`.
    fn me(&self) -> Option<UserId> {
        self.client.as_ref().map(|c| c.user().id)
    }
}

/// Look users up by username, in order.
async fn resolve_users(client: &Client, usernames: &[String]) -> CliResult<Vec<UserPublic>> {
    let mut users = Vec::with_capacity(usernames.len());
    for username in usernames.iter().map(|u| u.trim()).filter(|u| !u.is_empty()) {
        users.push(client.get_user_by_name(username).await?);
    }
    Ok(users)
}

fn usernames(users: &[UserPublic]) -> Vec<String> {
    users.iter().map(|u| u.username.clone()).collect()
}

/// The text as the server keeps it: trimmed, and `None` when empty.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A group update that changes nothing yet.
fn update_of(conversation_id: i64) -> GroupUpdate {
    GroupUpdate {
        conversation_id,
        ..GroupUpdate::default()
    }
}

fn policy_name(policy: JoinPolicy) -> &'static str {
    match policy {
        JoinPolicy::Free => "free",
        JoinPolicy::Approval => "approval",
        JoinPolicy::InviteOnly => "invite only",
    }
}

/// [`policy_name`] with what it means.
fn policy_label(policy: JoinPolicy) -> &'static str {
    match policy {
        JoinPolicy::Free => "free (anyone may join)",
        JoinPolicy::Approval => "approval (join requests wait for an admin)",
        JoinPolicy::InviteOnly => "invite only (by invitation or invite code)",
    }
}

/// `confab group info` without `--json`: one `key: value` line per set field.
async fn group_info_lines(names: &mut Names, info: &GroupInfo) -> Vec<String> {
    let mut lines = vec![format!("group {} \"{}\"", info.conversation_id, info.name)];
    if info.dissolved {
        lines.push("dissolved: yes".to_string());
    }
    lines.push(format!("owner: {}", names.get(info.owner_id).await));
    lines.push(format!(
        "members: {} of at most {}",
        info.member_count, info.max_members
    ));
    lines.push(format!("join policy: {}", policy_label(info.join_policy)));
    lines.push(format!(
        "mute-all: {}",
        if info.mute_all { "on" } else { "off" }
    ));
    if let Some(announcement) = &info.announcement {
        lines.push(format!("announcement: {announcement}"));
    }
    if let Some(avatar) = &info.avatar {
        lines.push(format!("avatar: {avatar}"));
    }
    lines.push(format!(
        "your role: {}",
        info.my_role.map_or("not a member", Role::as_str)
    ));
    if let Some(nickname) = &info.my_nickname {
        lines.push(format!("your nickname: {nickname}"));
    }
    if let Some(remark) = &info.my_remark {
        lines.push(format!("your remark: {remark}"));
    }
    if let Some(until) = info.muted_until {
        lines.push(format!("you are muted until: {}", format_time(until)));
    }
    if let Some(code) = &info.invite_code {
        lines.push(format!("invite code: {code}"));
    }
    lines
}

/// A message's content as one line of text.
// The protocol may grow new kinds of content; they are shown in a generic form.
#[allow(unreachable_patterns)]
async fn describe(names: &mut Names, message: &Message) -> String {
    let text = match &message.content {
        Content::Text { text } => text.clone(),
        Content::Recalled => "(recalled)".to_string(),
        Content::System(event) => format!("* {}", describe_system(names, event).await),
        Content::Image {
            media,
            width,
            height,
            ..
        } => format!(
            "[image {width}×{height}, {} bytes] {}",
            media.size, media.id
        ),
        Content::File { media, name } => {
            format!("[file {name}, {} bytes] {}", media.size, media.id)
        }
        Content::Voice {
            media, duration_ms, ..
        } => format!(
            "[voice {}] {}",
            duration_ms.map_or("?".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
            media.id
        ),
        Content::Video {
            media, duration_ms, ..
        } => format!(
            "[video {}] {}",
            duration_ms.map_or("?".into(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
            media.id
        ),
        Content::Assistant(reply) => match reply.status {
            confab_sdk::proto::ReplyStatus::Complete => reply.text.clone(),
            confab_sdk::proto::ReplyStatus::Stopped => format!("{} (stopped)", reply.text),
            confab_sdk::proto::ReplyStatus::Failed => format!("! {}", reply.text),
        },
        other => {
            let other = serde_json::to_value(other).unwrap_or_default();
            format!("({})", other["type"].as_str().unwrap_or("unknown content"))
        }
    };
    match message.reply_to {
        Some(seq) => format!("(reply to #{seq}) {text}"),
        None => text,
    }
}

/// A system event as a sentence.
// The protocol may grow new kinds; they are shown as `kind key=value …`.
#[allow(unreachable_patterns)]
async fn describe_system(names: &mut Names, event: &SystemEvent) -> String {
    match event {
        SystemEvent::GroupCreated {
            by,
            name,
            members,
            member_count,
        } => {
            let by = names.get(*by).await;
            if members.is_empty() {
                format!("{by} created the group \"{name}\"")
            } else {
                let listed = names.list(members).await;
                match (*member_count as usize).saturating_sub(members.len()) {
                    0 => format!("{by} created the group \"{name}\" with {listed}"),
                    more => {
                        format!("{by} created the group \"{name}\" with {listed} and {more} others")
                    }
                }
            }
        }
        SystemEvent::MembersAdded { by, user_ids } => {
            let by = names.get(*by).await;
            format!("{by} invited {}", names.list(user_ids).await)
        }
        SystemEvent::MessageRecalled { by, seq } => {
            format!("{} recalled #{seq}", names.get(*by).await)
        }
        SystemEvent::MemberJoined { user_id } => format!("{} joined", names.get(*user_id).await),
        SystemEvent::MemberLeft { user_id } => format!("{} left", names.get(*user_id).await),
        SystemEvent::MemberKicked { by, user_id } => {
            let user = names.get(*user_id).await;
            format!("{user} was removed by {}", names.get(*by).await)
        }
        SystemEvent::GroupRenamed { by, name } => {
            format!("{} renamed the group to \"{name}\"", names.get(*by).await)
        }
        SystemEvent::AvatarChanged { by } => {
            format!("{} changed the group avatar", names.get(*by).await)
        }
        SystemEvent::AnnouncementUpdated { by, text } => {
            let by = names.get(*by).await;
            match text {
                Some(text) => format!("announcement updated by {by}: {text}"),
                None => format!("announcement cleared by {by}"),
            }
        }
        SystemEvent::JoinPolicyChanged { by, policy } => format!(
            "{} set the join policy to {}",
            names.get(*by).await,
            policy_name(*policy)
        ),
        SystemEvent::OwnerTransferred { from, to } => {
            let from = names.get(*from).await;
            format!("{from} made {} the owner", names.get(*to).await)
        }
        SystemEvent::RoleChanged { by, user_id, role } => {
            let by = names.get(*by).await;
            let user = names.get(*user_id).await;
            match role {
                Role::Admin => format!("{by} made {user} an admin"),
                Role::Member => format!("{user} is no longer an admin (by {by})"),
                Role::Owner => format!("{by} made {user} the owner"),
            }
        }
        SystemEvent::MemberMuted { by, user_id, until } => {
            let by = names.get(*by).await;
            let user = names.get(*user_id).await;
            match until {
                Some(until) => format!("{user} was muted by {by} until {}", format_time(*until)),
                None => format!("{user} was unmuted by {by}"),
            }
        }
        SystemEvent::MuteAllChanged { by, on } => {
            let by = names.get(*by).await;
            if *on {
                format!("{by} muted the group: only the owner and admins can send")
            } else {
                format!("{by} unmuted the group")
            }
        }
        SystemEvent::NicknameChanged { user_id, nickname } => {
            let user = names.get(*user_id).await;
            match nickname {
                Some(nickname) => format!("{user} is now known here as \"{nickname}\""),
                None => format!("{user} cleared their nickname"),
            }
        }
        SystemEvent::GroupDissolved { by } => {
            format!("group dissolved by {}", names.get(*by).await)
        }
        SystemEvent::AssistantChanged { by, on } => format!(
            "{} turned the AI assistant {}",
            names.get(*by).await,
            if *on { "on" } else { "off" }
        ),
        other => {
            let event = serde_json::to_value(other).unwrap_or_default();
            let kind = event["kind"].as_str().unwrap_or("event");
            let mut parts = vec![kind.replace('_', " ")];
            if let Some(fields) = event.as_object() {
                for (key, value) in fields.iter().filter(|(k, _)| k.as_str() != "kind") {
                    let shown = match (key.as_str(), value.as_i64()) {
                        ("by" | "user_id" | "from" | "to", Some(id)) => names.get(id).await,
                        _ => value.to_string(),
                    };
                    parts.push(format!("{key}={shown}"));
                }
            }
            parts.join(" ")
        }
    }
}

/// A change in this user's contacts as a sentence.
// The protocol may grow new kinds; they are shown as their JSON.
#[allow(unreachable_patterns)]
async fn describe_contact(names: &mut Names, event: &ContactEvent) -> String {
    match event {
        ContactEvent::Requested { request } => {
            let note = match &request.note {
                Some(note) => format!(": \"{note}\""),
                None => String::new(),
            };
            if names.me() == Some(request.from.id) {
                format!("friend request sent to {}{note}", request.to.username)
            } else {
                format!(
                    "friend request from {}{note} (answer with `confab friend accept {0}` or \
                     `confab friend decline {0}`)",
                    request.from.username
                )
            }
        }
        ContactEvent::Accepted { user } => format!("you and {} are now friends", user.username),
        ContactEvent::Declined { user_id } => {
            format!("declined {}'s friend request", names.get(*user_id).await)
        }
        ContactEvent::Removed { user_id } => {
            format!(
                "you and {} are no longer friends",
                names.get(*user_id).await
            )
        }
        ContactEvent::Remark { user_id, remark } => {
            let user = names.get(*user_id).await;
            match remark {
                Some(remark) => format!("your remark for {user}: \"{remark}\""),
                None => format!("cleared your remark for {user}"),
            }
        }
        ContactEvent::Blocked { user_id, blocked } => {
            let user = names.get(*user_id).await;
            if *blocked {
                format!("blocked {user}")
            } else {
                format!("unblocked {user}")
            }
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

async fn preview(names: &mut Names, c: &ConversationSummary) -> String {
    match &c.last_message {
        // System events name their actor already.
        Some(m) if matches!(m.content, Content::System(_)) => {
            truncate(&describe(names, m).await, 50)
        }
        Some(m) => {
            let sender = names.get(m.sender_id).await;
            let text = describe(names, m).await;
            truncate(&format!("{sender}: {text}"), 50)
        }
        None => String::new(),
    }
}

/// What changed in how this user sees a conversation, fetched anew.
async fn describe_changed(client: Option<&Client>, conversation_id: i64) -> String {
    let fetched = match client {
        Some(client) => client.get_conversation(conversation_id).await.ok(),
        None => None,
    };
    let (Some(client), Some(c)) = (client, fetched) else {
        return format!("conversation {conversation_id} changed");
    };
    let mut notes = Vec::new();
    // Admins hear of new join requests this way too.
    if c.kind == ConversationKind::Group && c.role.is_admin() && !c.read_only {
        if let Ok(waiting) = client.group_join_requests(conversation_id).await {
            match waiting.len() {
                0 => {}
                1 => notes.push("1 join request waiting".to_string()),
                n => notes.push(format!("{n} join requests waiting")),
            }
        }
    }
    if c.read_only {
        notes.push("read-only".to_string());
    }
    if c.muted {
        notes.push("notifications muted".to_string());
    }
    if let Some(remark) = &c.remark {
        notes.push(format!("remark \"{remark}\""));
    }
    if notes.is_empty() {
        format!("conversation {conversation_id} \"{}\" changed", c.name)
    } else {
        format!(
            "conversation {conversation_id} \"{}\" changed: {}",
            c.name,
            notes.join(", ")
        )
    }
}

// The protocol may grow new events; they are shown as their JSON.
#[allow(unreachable_patterns)]
async fn describe_event(names: &mut Names, event: &Event) -> String {
    match event {
        Event::Message(m) => format!(
            "{}  conversation {} #{}  {}: {}",
            format_time(m.created_at),
            m.conversation_id,
            m.seq,
            names.get(m.sender_id).await,
            describe(names, m).await
        ),
        Event::Read(r) => format!(
            "{} read conversation {} up to #{}",
            names.get(r.user_id).await,
            r.conversation_id,
            r.read_seq
        ),
        Event::Typing(t) => format!(
            "{} is typing in conversation {}",
            names.get(t.user_id).await,
            t.conversation_id
        ),
        Event::Presence(p) => {
            let name = names.get(p.user_id).await;
            match (p.online, p.last_seen) {
                (true, _) => format!("{name} is online"),
                (false, Some(seen)) => {
                    format!("{name} went offline (last seen {})", format_time(seen))
                }
                (false, None) => format!("{name} is offline"),
            }
        }
        Event::Hello(h) => format!("connected as {}", h.user.username),
        Event::Contact(contact) => describe_contact(names, contact).await,
        Event::ConversationChanged(changed) => {
            describe_changed(names.client.as_ref(), changed.conversation_id).await
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn send_needs_a_target_and_text() {
        assert!(Cli::try_parse_from(["confab", "send", "hello"]).is_err());
        assert!(Cli::try_parse_from(["confab", "send", "--to", "bob"]).is_err());
        assert!(Cli::try_parse_from([
            "confab",
            "send",
            "--to",
            "bob",
            "--conversation",
            "3",
            "hi"
        ])
        .is_err());
        let cli = Cli::try_parse_from(["confab", "--json", "send", "--to", "bob", "hi", "there"])
            .unwrap();
        assert!(cli.json);
        match cli.command {
            Command::Send(args) => {
                assert_eq!(args.to.as_deref(), Some("bob"));
                assert_eq!(args.text.join(" "), "hi there");
            }
            _ => panic!("expected send"),
        }
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = Cli::try_parse_from([
            "confab",
            "conversations",
            "--server",
            "http://example.com:9000",
            "--json",
        ])
        .unwrap();
        assert_eq!(cli.server, "http://example.com:9000");
        assert!(cli.json);
    }

    #[test]
    fn group_members_are_split_on_commas() {
        let cli = Cli::try_parse_from([
            "confab",
            "group",
            "create",
            "Team",
            "--members",
            "alice,bob",
        ])
        .unwrap();
        match cli.command {
            Command::Group(GroupCommand::Create { name, members }) => {
                assert_eq!(name, "Team");
                assert_eq!(members, ["alice", "bob"]);
            }
            _ => panic!("expected group create"),
        }
    }

    fn parse(args: &[&str]) -> Command {
        let mut full = vec!["confab"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full) {
            Ok(cli) => cli.command,
            Err(e) => panic!("{args:?} should parse: {e}"),
        }
    }

    fn refused(args: &[&str]) -> clap::error::ErrorKind {
        let mut full = vec!["confab"];
        full.extend_from_slice(args);
        match Cli::try_parse_from(full) {
            Ok(_) => panic!("{args:?} should be refused"),
            Err(e) => e.kind(),
        }
    }

    #[test]
    fn friend_commands_take_usernames_and_texts() {
        match parse(&["friend", "request", "bob", "--note", "it's Ann"]) {
            Command::Friend(FriendCommand::Request { user, note }) => {
                assert_eq!(user, "bob");
                assert_eq!(note.as_deref(), Some("it's Ann"));
            }
            _ => panic!("expected friend request"),
        }
        match parse(&["friend", "request", "bob"]) {
            Command::Friend(FriendCommand::Request { note, .. }) => assert_eq!(note, None),
            _ => panic!("expected friend request"),
        }
        match parse(&["friend", "remark", "bob", "Bob", "from", "work"]) {
            Command::Friend(FriendCommand::Remark { user, text }) => {
                assert_eq!(user, "bob");
                assert_eq!(text.join(" "), "Bob from work");
            }
            _ => panic!("expected friend remark"),
        }
        // An empty text clears the remark.
        match parse(&["friend", "remark", "bob", ""]) {
            Command::Friend(FriendCommand::Remark { text, .. }) => assert_eq!(text, [""]),
            _ => panic!("expected friend remark"),
        }
        for (args, expected) in [
            (&["friend", "accept", "bob"][..], "accept"),
            (&["friend", "decline", "bob"], "decline"),
            (&["friend", "delete", "bob"], "delete"),
            (&["friend", "block", "bob"], "block"),
            (&["friend", "unblock", "bob"], "unblock"),
            (&["friend", "list"], "list"),
            (&["friend", "requests"], "requests"),
            (&["friend", "blocked"], "blocked"),
        ] {
            let got = match parse(args) {
                Command::Friend(FriendCommand::Accept { user }) if user == "bob" => "accept",
                Command::Friend(FriendCommand::Decline { user }) if user == "bob" => "decline",
                Command::Friend(FriendCommand::Delete { user }) if user == "bob" => "delete",
                Command::Friend(FriendCommand::Block { user }) if user == "bob" => "block",
                Command::Friend(FriendCommand::Unblock { user }) if user == "bob" => "unblock",
                Command::Friend(FriendCommand::List) => "list",
                Command::Friend(FriendCommand::Requests) => "requests",
                Command::Friend(FriendCommand::Blocked) => "blocked",
                _ => "something else",
            };
            assert_eq!(got, expected, "{args:?}");
        }
        assert_eq!(
            refused(&["friend", "accept"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["friend", "remark", "bob"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn search_and_settings() {
        match parse(&["--json", "search", "ali", "--limit", "5"]) {
            Command::Search { query, limit } => {
                assert_eq!(query, "ali");
                assert_eq!(limit, Some(5));
            }
            _ => panic!("expected search"),
        }
        match parse(&["settings"]) {
            Command::Settings { direct_messages } => assert_eq!(direct_messages, None),
            _ => panic!("expected settings"),
        }
        for (given, expected) in [
            ("friends_only", DirectPolicy::FriendsOnly),
            ("friends-only", DirectPolicy::FriendsOnly),
            ("anyone", DirectPolicy::Anyone),
        ] {
            match parse(&["settings", "--direct-messages", given]) {
                Command::Settings {
                    direct_messages: Some(policy),
                } => assert_eq!(DirectPolicy::from(policy), expected),
                _ => panic!("expected settings with a policy"),
            }
        }
        assert_eq!(
            refused(&["settings", "--direct-messages", "everyone"]),
            clap::error::ErrorKind::InvalidValue
        );
    }

    #[test]
    fn group_join_takes_an_id_or_a_code() {
        match parse(&["group", "join", "9", "--note", "hello"]) {
            Command::Group(GroupCommand::Join {
                conversation,
                code,
                note,
            }) => {
                assert_eq!((conversation, code), (Some(9), None));
                assert_eq!(note.as_deref(), Some("hello"));
            }
            _ => panic!("expected group join"),
        }
        match parse(&["group", "join", "--code", "Xy12"]) {
            Command::Group(GroupCommand::Join {
                conversation, code, ..
            }) => assert_eq!((conversation, code.as_deref()), (None, Some("Xy12"))),
            _ => panic!("expected group join"),
        }
        assert_eq!(
            refused(&["group", "join"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["group", "join", "9", "--code", "Xy12"]),
            clap::error::ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn group_commands_take_a_conversation_and_usernames() {
        match parse(&["group", "invite", "9", "bob", "carol"]) {
            Command::Group(GroupCommand::Invite {
                conversation,
                users,
            }) => {
                assert_eq!(conversation, 9);
                assert_eq!(users, ["bob", "carol"]);
            }
            _ => panic!("expected group invite"),
        }
        assert_eq!(
            refused(&["group", "invite", "9"]),
            clap::error::ErrorKind::MissingRequiredArgument
        );
        assert_eq!(
            refused(&["group", "kick", "nine", "bob"]),
            clap::error::ErrorKind::ValueValidation
        );
        match parse(&["group", "admin", "9", "bob", "--remove"]) {
            Command::Group(GroupCommand::Admin {
                conversation,
                user,
                remove,
            }) => assert_eq!((conversation, user.as_str(), remove), (9, "bob", true)),
            _ => panic!("expected group admin"),
        }
        match parse(&["group", "admin", "9", "bob"]) {
            Command::Group(GroupCommand::Admin { remove, .. }) => assert!(!remove),
            _ => panic!("expected group admin"),
        }
        match parse(&["group", "announce", "9", "standup", "at", "10"]) {
            Command::Group(GroupCommand::Announce { conversation, text }) => {
                assert_eq!(
                    (conversation, text.join(" ").as_str()),
                    (9, "standup at 10")
                );
            }
            _ => panic!("expected group announce"),
        }
        match parse(&["group", "rename", "9", "Team", "B"]) {
            Command::Group(GroupCommand::Rename { name, .. }) => {
                assert_eq!(name.join(" "), "Team B")
            }
            _ => panic!("expected group rename"),
        }
        match parse(&["group", "nick", "9", ""]) {
            Command::Group(GroupCommand::Nick { text, .. }) => assert_eq!(text, [""]),
            _ => panic!("expected group nick"),
        }
        match parse(&["group", "remark", "9", "family"]) {
            Command::Group(GroupCommand::Remark { text, .. }) => assert_eq!(text, ["family"]),
            _ => panic!("expected group remark"),
        }
        match parse(&["group", "code", "9", "--reset"]) {
            Command::Group(GroupCommand::Code {
                conversation,
                reset,
            }) => assert_eq!((conversation, reset), (9, true)),
            _ => panic!("expected group code"),
        }
        for (args, expected) in [
            (&["group", "info", "9"][..], "info"),
            (&["group", "members", "9"], "members"),
            (&["group", "requests", "9"], "requests"),
            (&["group", "approve", "9", "bob"], "approve"),
            (&["group", "reject", "9", "bob"], "reject"),
            (&["group", "leave", "9"], "leave"),
            (&["group", "kick", "9", "bob"], "kick"),
            (&["group", "dissolve", "9"], "dissolve"),
            (&["group", "transfer", "9", "bob"], "transfer"),
        ] {
            let got = match parse(args) {
                Command::Group(GroupCommand::Info { conversation: 9 }) => "info",
                Command::Group(GroupCommand::Members { conversation: 9 }) => "members",
                Command::Group(GroupCommand::Requests { conversation: 9 }) => "requests",
                Command::Group(GroupCommand::Approve {
                    conversation: 9,
                    user,
                }) if user == "bob" => "approve",
                Command::Group(GroupCommand::Reject {
                    conversation: 9,
                    user,
                }) if user == "bob" => "reject",
                Command::Group(GroupCommand::Leave { conversation: 9 }) => "leave",
                Command::Group(GroupCommand::Kick {
                    conversation: 9,
                    user,
                }) if user == "bob" => "kick",
                Command::Group(GroupCommand::Dissolve { conversation: 9 }) => "dissolve",
                Command::Group(GroupCommand::Transfer {
                    conversation: 9,
                    user,
                }) if user == "bob" => "transfer",
                _ => "something else",
            };
            assert_eq!(got, expected, "{args:?}");
        }
    }

    #[test]
    fn group_policy_and_mute_all_take_named_values() {
        for (given, expected) in [
            ("free", JoinPolicy::Free),
            ("approval", JoinPolicy::Approval),
            ("invite_only", JoinPolicy::InviteOnly),
            ("invite-only", JoinPolicy::InviteOnly),
        ] {
            match parse(&["group", "policy", "9", given]) {
                Command::Group(GroupCommand::Policy { policy, .. }) => {
                    assert_eq!(JoinPolicy::from(policy), expected)
                }
                _ => panic!("expected group policy"),
            }
        }
        assert_eq!(
            refused(&["group", "policy", "9", "open"]),
            clap::error::ErrorKind::InvalidValue
        );
        match parse(&["group", "mute-all", "9", "on"]) {
            Command::Group(GroupCommand::MuteAll { state, .. }) => assert_eq!(state, Switch::On),
            _ => panic!("expected group mute-all"),
        }
        match parse(&["group", "mute-all", "9", "off"]) {
            Command::Group(GroupCommand::MuteAll { state, .. }) => assert_eq!(state, Switch::Off),
            _ => panic!("expected group mute-all"),
        }
        assert_eq!(
            refused(&["group", "mute-all", "9", "maybe"]),
            clap::error::ErrorKind::InvalidValue
        );
    }

    #[test]
    fn group_mute_takes_a_duration() {
        for (given, secs) in [
            ("10m", 600),
            ("2h", 7200),
            ("0", 0),
            ("90", 90),
            ("45s", 45),
            ("1d", 86_400),
            ("1h30m", 5400),
        ] {
            match parse(&["group", "mute", "9", "bob", given]) {
                Command::Group(GroupCommand::Mute {
                    conversation,
                    user,
                    duration,
                }) => {
                    assert_eq!((conversation, user.as_str()), (9, "bob"));
                    assert_eq!(duration, Duration::from_secs(secs), "{given}");
                }
                _ => panic!("expected group mute"),
            }
        }
        for bad in ["10x", "m", "ten", "10m5", "5y", "1.5h", ""] {
            assert_eq!(
                refused(&["group", "mute", "9", "bob", bad]),
                clap::error::ErrorKind::ValueValidation,
                "{bad:?}"
            );
        }
        assert!(parse_duration("99999999999999999999w").is_err());
        assert!(parse_duration("9999999999999999w").is_err());
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(600), "10m");
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(format_duration(90_061), "1d1h1m1s");
    }

    /// Names known without a server: alice 1, bob 2, carol 3.
    fn offline_names() -> Names {
        Names {
            client: None,
            known: [(1, "alice"), (2, "bob"), (3, "carol")]
                .into_iter()
                .map(|(id, name)| (id, name.to_string()))
                .collect(),
        }
    }

    /// Fails to compile when the protocol gains a system event kind, so that it gets a
    /// sentence (and a line in the test below).
    fn every_system_kind(event: &SystemEvent) {
        match event {
            SystemEvent::GroupCreated { .. }
            | SystemEvent::MembersAdded { .. }
            | SystemEvent::MessageRecalled { .. }
            | SystemEvent::MemberJoined { .. }
            | SystemEvent::MemberLeft { .. }
            | SystemEvent::MemberKicked { .. }
            | SystemEvent::GroupRenamed { .. }
            | SystemEvent::AvatarChanged { .. }
            | SystemEvent::AnnouncementUpdated { .. }
            | SystemEvent::JoinPolicyChanged { .. }
            | SystemEvent::OwnerTransferred { .. }
            | SystemEvent::RoleChanged { .. }
            | SystemEvent::MemberMuted { .. }
            | SystemEvent::MuteAllChanged { .. }
            | SystemEvent::NicknameChanged { .. }
            | SystemEvent::GroupDissolved { .. }
            | SystemEvent::AssistantChanged { .. } => {}
        }
    }

    #[tokio::test]
    async fn every_system_event_reads_as_a_sentence() {
        let until = 1_700_000_600_000;
        let cases = [
            (
                SystemEvent::GroupCreated {
                    by: 1,
                    name: "Team".into(),
                    members: vec![2, 3],
                    member_count: 2,
                },
                "alice created the group \"Team\" with bob, carol".to_string(),
            ),
            (
                SystemEvent::GroupCreated {
                    by: 1,
                    name: "Big".into(),
                    members: vec![2, 3],
                    member_count: 502,
                },
                "alice created the group \"Big\" with bob, carol and 500 others".to_string(),
            ),
            (
                SystemEvent::GroupCreated {
                    by: 1,
                    name: "Solo".into(),
                    members: vec![],
                    member_count: 0,
                },
                "alice created the group \"Solo\"".to_string(),
            ),
            (
                SystemEvent::MembersAdded {
                    by: 1,
                    user_ids: vec![2, 3],
                },
                "alice invited bob, carol".to_string(),
            ),
            (
                SystemEvent::MessageRecalled { by: 2, seq: 12 },
                "bob recalled #12".to_string(),
            ),
            (
                SystemEvent::MemberJoined { user_id: 3 },
                "carol joined".to_string(),
            ),
            (
                SystemEvent::MemberLeft { user_id: 3 },
                "carol left".to_string(),
            ),
            (
                SystemEvent::MemberKicked { by: 1, user_id: 2 },
                "bob was removed by alice".to_string(),
            ),
            (
                SystemEvent::GroupRenamed {
                    by: 1,
                    name: "Team B".into(),
                },
                "alice renamed the group to \"Team B\"".to_string(),
            ),
            (
                SystemEvent::AvatarChanged { by: 1 },
                "alice changed the group avatar".to_string(),
            ),
            (
                SystemEvent::AnnouncementUpdated {
                    by: 1,
                    text: Some("standup at 10".into()),
                },
                "announcement updated by alice: standup at 10".to_string(),
            ),
            (
                SystemEvent::AnnouncementUpdated { by: 1, text: None },
                "announcement cleared by alice".to_string(),
            ),
            (
                SystemEvent::JoinPolicyChanged {
                    by: 1,
                    policy: JoinPolicy::InviteOnly,
                },
                "alice set the join policy to invite only".to_string(),
            ),
            (
                SystemEvent::OwnerTransferred { from: 1, to: 2 },
                "alice made bob the owner".to_string(),
            ),
            (
                SystemEvent::RoleChanged {
                    by: 1,
                    user_id: 2,
                    role: Role::Admin,
                },
                "alice made bob an admin".to_string(),
            ),
            (
                SystemEvent::RoleChanged {
                    by: 1,
                    user_id: 2,
                    role: Role::Member,
                },
                "bob is no longer an admin (by alice)".to_string(),
            ),
            (
                SystemEvent::MemberMuted {
                    by: 2,
                    user_id: 3,
                    until: Some(until),
                },
                format!("carol was muted by bob until {}", format_time(until)),
            ),
            (
                SystemEvent::MemberMuted {
                    by: 2,
                    user_id: 3,
                    until: None,
                },
                "carol was unmuted by bob".to_string(),
            ),
            (
                SystemEvent::MuteAllChanged { by: 1, on: true },
                "alice muted the group: only the owner and admins can send".to_string(),
            ),
            (
                SystemEvent::MuteAllChanged { by: 1, on: false },
                "alice unmuted the group".to_string(),
            ),
            (
                SystemEvent::NicknameChanged {
                    user_id: 2,
                    nickname: Some("Bobby".into()),
                },
                "bob is now known here as \"Bobby\"".to_string(),
            ),
            (
                SystemEvent::NicknameChanged {
                    user_id: 2,
                    nickname: None,
                },
                "bob cleared their nickname".to_string(),
            ),
            (
                SystemEvent::GroupDissolved { by: 1 },
                "group dissolved by alice".to_string(),
            ),
        ];
        let mut names = offline_names();
        for (event, expected) in &cases {
            every_system_kind(event);
            assert_eq!(&describe_system(&mut names, event).await, expected);
        }
        // Unknown users show as their id rather than failing.
        let event = SystemEvent::MemberJoined { user_id: 42 };
        assert_eq!(describe_system(&mut names, &event).await, "#42 joined");
    }

    #[tokio::test]
    async fn contact_events_read_as_sentences() {
        let bob = UserPublic {
            id: 2,
            username: "bob".into(),
            display_name: "Bob".into(),
            avatar: None,
            status_text: None,
            is_bot: false,
        };
        let alice = UserPublic {
            id: 1,
            username: "alice".into(),
            ..bob.clone()
        };
        let request = confab_sdk::proto::FriendRequest {
            from: bob.clone(),
            to: alice,
            note: Some("it's Bob".into()),
            created_at: 1_700_000_000_000,
        };
        let cases = [
            (
                Event::Contact(ContactEvent::Requested { request }),
                "friend request from bob: \"it's Bob\" (answer with `confab friend accept bob` \
                 or `confab friend decline bob`)",
            ),
            (
                Event::Contact(ContactEvent::Accepted { user: bob }),
                "you and bob are now friends",
            ),
            (
                Event::Contact(ContactEvent::Declined { user_id: 3 }),
                "declined carol's friend request",
            ),
            (
                Event::Contact(ContactEvent::Removed { user_id: 2 }),
                "you and bob are no longer friends",
            ),
            (
                Event::Contact(ContactEvent::Remark {
                    user_id: 2,
                    remark: Some("Bobby".into()),
                }),
                "your remark for bob: \"Bobby\"",
            ),
            (
                Event::Contact(ContactEvent::Remark {
                    user_id: 2,
                    remark: None,
                }),
                "cleared your remark for bob",
            ),
            (
                Event::Contact(ContactEvent::Blocked {
                    user_id: 3,
                    blocked: true,
                }),
                "blocked carol",
            ),
            (
                Event::Contact(ContactEvent::Blocked {
                    user_id: 3,
                    blocked: false,
                }),
                "unblocked carol",
            ),
            (
                Event::ConversationChanged(confab_sdk::proto::ConversationChanged {
                    conversation_id: 9,
                }),
                "conversation 9 changed",
            ),
        ];
        let mut names = offline_names();
        for (event, expected) in &cases {
            assert_eq!(&describe_event(&mut names, event).await, expected);
        }
    }

    #[test]
    fn tables_align_columns() {
        let mut table = Table::new(["SEQ", "SENDER", "TEXT"]);
        table.align_right(0);
        table.row(["1".to_string(), "alice".to_string(), "hi".to_string()]);
        table.row([
            "12".to_string(),
            "bo".to_string(),
            "hello there".to_string(),
        ]);
        assert_eq!(
            table.render(),
            vec![
                "SEQ  SENDER  TEXT",
                "  1  alice   hi",
                " 12  bo      hello there"
            ]
        );
    }

    #[test]
    fn truncation_counts_characters() {
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("héllo wörld", 6), "héllo…");
        assert_eq!(truncate("two\nlines", 20), "two lines");
    }

    #[test]
    fn server_errors_keep_their_code() {
        let failure = Failure::from(Error::Server(confab_sdk::WireError::new(
            confab_sdk::proto::ErrorCode::NotMember,
            "not a member",
        )));
        assert_eq!(failure.code, "not_member");
        assert_eq!(failure.message, "not a member");
        let failure = Failure::from(Error::Timeout);
        assert_eq!(failure.code, "timeout");
    }
}
