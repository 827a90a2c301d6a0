//! `confab`: the Confab command-line client.
//!
//! Every command takes `--server URL` (env `CONFAB_SERVER`) and `--json` (one JSON object per
//! line on stdout). Logins are kept per server in `credentials.json` (see
//! `confab_sdk::credentials`). Errors go to stderr as `error: <code>: <message>` with exit
//! status 1; usage errors exit with status 2. `CONFAB_LOG` (e.g. `confab_sdk=trace`) turns on
//! diagnostics on stderr.

use std::collections::HashMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{Local, TimeZone};
use clap::{ArgGroup, Args, Parser, Subcommand};
use confab_sdk::credentials::{CredentialStore, Credentials};
use confab_sdk::proto::http::{LoginRequest, RegisterRequest};
use confab_sdk::proto::{
    Content, ConversationKind, ConversationSummary, Event, HistoryRequest, MembersRequest, Message,
    Millis, SendRequest, Target, UserId,
};
use confab_sdk::{
    new_client_msg_id, Client, ClientEvent, ClientOptions, Endpoint, Error, DEFAULT_SERVER,
};
use serde::Serialize;
use serde_json::{json, Value};

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
    /// Create groups and list their members.
    #[command(subcommand)]
    Group(GroupCommand),
    /// Print incoming events, one per line. Connection news goes to stderr.
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

#[derive(Subcommand)]
enum GroupCommand {
    /// Create a group.
    Create {
        name: String,
        /// Usernames to add, separated by commas.
        #[arg(long, value_delimiter = ',')]
        members: Vec<String>,
    },
    /// List a conversation's members.
    Members { conversation: i64 },
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
        Command::Group(GroupCommand::Create { name, members }) => {
            app.create_group(name, members).await
        }
        Command::Group(GroupCommand::Members { conversation }) => app.members(conversation).await,
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

    async fn history(&self, request: HistoryRequest) -> CliResult {
        let client = self.client().await?;
        let page = client.history(request).await?;
        if self.out.json {
            for message in &page.messages {
                self.out.json(message)?;
            }
        } else {
            let mut names = Names::default();
            let mut table = Table::new(["SEQ", "SENDER", "TIME", "TEXT"]);
            table.align_right(0);
            for m in &page.messages {
                table.row([
                    m.seq.to_string(),
                    names.get(&client, m.sender_id).await,
                    format_time(m.created_at),
                    describe(&client, &mut names, m).await,
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
            let mut names = Names::default();
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
                    preview(&client, &mut names, c).await,
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

    // ---- groups ------------------------------------------------------------------------

    async fn create_group(&self, name: String, members: Vec<String>) -> CliResult {
        let client = self.client().await?;
        let mut ids = Vec::new();
        for username in members.iter().map(|m| m.trim()).filter(|m| !m.is_empty()) {
            ids.push(client.get_user_by_name(username).await?.id);
        }
        let group = client.create_group(name, ids).await?;
        client.close().await?;
        self.out.json_or(&group, || {
            format!(
                "created group {} \"{}\" with {} members",
                group.id, group.name, group.member_count
            )
        })
    }

    async fn members(&self, conversation: i64) -> CliResult {
        let client = self.client().await?;
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
        client.close().await?;
        if self.out.json {
            for member in &members {
                self.out.json(member)?;
            }
            return Ok(());
        }
        let mut table = Table::new(["ID", "USERNAME", "NAME", "ROLE", "READ"]);
        table.align_right(0);
        table.align_right(4);
        for m in &members {
            table.row([
                m.user.id.to_string(),
                m.user.username.clone(),
                m.user.display_name.clone(),
                m.role.as_str().to_string(),
                m.read_seq.to_string(),
            ]);
        }
        self.out.table(&table)
    }

    // ---- events ------------------------------------------------------------------------

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
        let mut names = Names::default();
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
                        let line = describe_event(&client, &mut names, &event).await;
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
#[derive(Default)]
struct Names {
    known: HashMap<UserId, String>,
}

impl Names {
    async fn get(&mut self, client: &Client, id: UserId) -> String {
        if let Some(name) = self.known.get(&id) {
            return name.clone();
        }
        let name = match client.get_user(id).await {
            Ok(user) => user.username,
            Err(_) => format!("#{id}"),
        };
        self.known.insert(id, name.clone());
        name
    }

    /// The name of the user whose id is in `event[field]`.
    async fn field(&mut self, client: &Client, event: &Value, field: &str) -> String {
        match event[field].as_i64() {
            Some(id) => self.get(client, id).await,
            None => "someone".to_string(),
        }
    }

    async fn list(&mut self, client: &Client, ids: &[UserId]) -> String {
        let mut names = Vec::with_capacity(ids.len());
        for &id in ids {
            names.push(self.get(client, id).await);
        }
        names.join(", ")
    }
}

/// A message's content as one line of text.
// The protocol may grow new kinds of content; they are shown in a generic form.
#[allow(unreachable_patterns)]
async fn describe(client: &Client, names: &mut Names, message: &Message) -> String {
    let text = match &message.content {
        Content::Text { text } => text.clone(),
        Content::Recalled => "(recalled)".to_string(),
        Content::Assistant(reply) => match reply.status {
            confab_sdk::proto::ReplyStatus::Complete => reply.text.clone(),
            confab_sdk::proto::ReplyStatus::Stopped => format!("{} (stopped)", reply.text),
            confab_sdk::proto::ReplyStatus::Failed => format!("! {}", reply.text),
        },
        Content::System(event) => {
            let event = serde_json::to_value(event).unwrap_or_default();
            format!("* {}", describe_system(client, names, &event).await)
        }
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

/// A system event (in its JSON form, tagged by `kind`) as a sentence.
async fn describe_system(client: &Client, names: &mut Names, event: &Value) -> String {
    let kind = event["kind"].as_str().unwrap_or("event");
    match kind {
        "group_created" => {
            let by = names.field(client, event, "by").await;
            let members = user_ids(&event["members"]);
            format!(
                "{by} created the group \"{}\" with {}",
                event["name"].as_str().unwrap_or_default(),
                names.list(client, &members).await
            )
        }
        "members_added" => {
            let by = names.field(client, event, "by").await;
            let added = user_ids(&event["user_ids"]);
            format!("{by} added {}", names.list(client, &added).await)
        }
        "message_recalled" => {
            let by = names.field(client, event, "by").await;
            format!("{by} recalled #{}", event["seq"])
        }
        "member_joined" => format!("{} joined", names.field(client, event, "user_id").await),
        "member_left" => format!("{} left", names.field(client, event, "user_id").await),
        "member_kicked" => {
            let by = names.field(client, event, "by").await;
            format!(
                "{by} removed {}",
                names.field(client, event, "user_id").await
            )
        }
        "group_renamed" => {
            let by = names.field(client, event, "by").await;
            format!(
                "{by} renamed the group to \"{}\"",
                event["name"].as_str().unwrap_or_default()
            )
        }
        "group_dissolved" => format!(
            "{} dissolved the group",
            names.field(client, event, "by").await
        ),
        _ => {
            let mut parts = vec![kind.replace('_', " ")];
            if let Some(fields) = event.as_object() {
                for (key, value) in fields.iter().filter(|(k, _)| k.as_str() != "kind") {
                    let shown = match (key.as_str(), value.as_i64()) {
                        ("by" | "user_id" | "from" | "to", Some(id)) => names.get(client, id).await,
                        _ => value.to_string(),
                    };
                    parts.push(format!("{key}={shown}"));
                }
            }
            parts.join(" ")
        }
    }
}

fn user_ids(value: &Value) -> Vec<UserId> {
    value
        .as_array()
        .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}

async fn preview(client: &Client, names: &mut Names, c: &ConversationSummary) -> String {
    match &c.last_message {
        // System events name their actor already.
        Some(m) if matches!(m.content, Content::System(_)) => {
            truncate(&describe(client, names, m).await, 50)
        }
        Some(m) => {
            let sender = names.get(client, m.sender_id).await;
            let text = describe(client, names, m).await;
            truncate(&format!("{sender}: {text}"), 50)
        }
        None => String::new(),
    }
}

// The protocol may grow new events; they are shown as their JSON.
#[allow(unreachable_patterns)]
async fn describe_event(client: &Client, names: &mut Names, event: &Event) -> String {
    match event {
        Event::Message(m) => format!(
            "{}  conversation {} #{}  {}: {}",
            format_time(m.created_at),
            m.conversation_id,
            m.seq,
            names.get(client, m.sender_id).await,
            describe(client, names, m).await
        ),
        Event::Read(r) => format!(
            "{} read conversation {} up to #{}",
            names.get(client, r.user_id).await,
            r.conversation_id,
            r.read_seq
        ),
        Event::Typing(t) => format!(
            "{} is typing in conversation {}",
            names.get(client, t.user_id).await,
            t.conversation_id
        ),
        Event::Presence(p) => {
            let name = names.get(client, p.user_id).await;
            match (p.online, p.last_seen) {
                (true, _) => format!("{name} is online"),
                (false, Some(seen)) => {
                    format!("{name} went offline (last seen {})", format_time(seen))
                }
                (false, None) => format!("{name} is offline"),
            }
        }
        Event::Hello(h) => format!("connected as {}", h.user.username),
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
