//! An echo bot: answers every text message it receives with the same text, prefixed
//! "echo: ". It shows the shape of any bot built on the SDK: a bot account created through the
//! integration API, a login token issued for it, then an ordinary [`Client`] loop.
//!
//! ```text
//! # once: a key that may manage users
//! confab-server admin api-key create --name echo-bot --scopes users
//! # then, against a running server:
//! CONFAB_SERVER=http://127.0.0.1:8080 CONFAB_API_KEY=cfk_… \
//!     cargo run -p confab-sdk --example echo_bot
//! ```
//!
//! With `CONFAB_BOT_TOKEN` set instead of `CONFAB_API_KEY`, it connects with that token.

use std::time::Duration;

use confab_sdk::proto::integration::{ImportUser, ImportUserResponse, IssueToken};
use confab_sdk::proto::{http::LoginResponse, Content, Event, Target};
use confab_sdk::{Client, ClientEvent};

/// Answers text messages until the connection ends for good.
pub async fn run(client: Client) -> anyhow::Result<()> {
    let me = client.user().id;
    while let Some(event) = client.next_event().await {
        let ClientEvent::Server(Event::Message(m)) = event else {
            continue;
        };
        let Content::Text { text } = &m.content else {
            continue;
        };
        if m.sender_id == me {
            continue;
        }
        let reply = format!("echo: {text}");
        if let Err(e) = client
            .send_text(Target::Conversation(m.conversation_id), reply)
            .await
        {
            eprintln!(
                "could not answer in conversation {}: {e}",
                m.conversation_id
            );
        }
    }
    Ok(())
}

/// Creates the bot account (idempotently, by its external id) and issues it a login token.
pub async fn bot_token(server: &str, api_key: &str) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let base = format!("{}/api/v1/integration", server.trim_end_matches('/'));
    let imported: ImportUserResponse = http
        .post(format!("{base}/users"))
        .bearer_auth(api_key)
        .json(&ImportUser {
            external_id: Some("bot:echo".into()),
            username: "echo-bot".into(),
            display_name: Some("Echo bot".into()),
            password: None,
            bot: true,
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let login: LoginResponse = http
        .post(format!("{base}/users/{}/tokens", imported.user.user.id))
        .bearer_auth(api_key)
        .json(&IssueToken {
            device_name: Some("echo bot".into()),
            ttl_secs: None,
        })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(login.token)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server =
        std::env::var("CONFAB_SERVER").unwrap_or_else(|_| confab_sdk::DEFAULT_SERVER.into());
    let token = match (
        std::env::var("CONFAB_BOT_TOKEN"),
        std::env::var("CONFAB_API_KEY"),
    ) {
        (Ok(token), _) => token,
        (_, Ok(key)) => bot_token(&server, &key).await?,
        _ => anyhow::bail!("set CONFAB_API_KEY (a key with the users scope) or CONFAB_BOT_TOKEN"),
    };
    let client = Client::connect(&server, &token).await?;
    println!("{} is listening on {server}", client.user().username);
    run(client).await
}
