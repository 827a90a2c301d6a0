//! The `confab` binary against the real `confab-server`: three users become friends, write
//! directly, and run a group from creation to dissolution. Every step checks the `--json`
//! output and the exit status; refused steps check the typed code on stderr.
//!
//! The server binary is not built here: it is taken from the same target folder as `confab`
//! (the workspace test command builds every binary first). Without it the test says so and
//! passes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PASSWORD: &str = "correct horse battery staple";

/// `confab-server` next to `confab`, else `../target/debug/confab-server` from this crate.
fn server_binary() -> Option<PathBuf> {
    let name = format!("confab-server{}", std::env::consts::EXE_SUFFIX);
    let beside = Path::new(env!("CARGO_BIN_EXE_confab")).with_file_name(&name);
    let debug = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/debug")
        .join(&name);
    [beside, debug].into_iter().find(|path| path.is_file())
}

/// A `confab-server` child process with its own data folder; killed when dropped.
struct Server {
    child: std::process::Child,
    url: String,
    _data: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn healthy(port: u16) -> bool {
    let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .await
        .is_err()
    {
        return false;
    }
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    answer.starts_with(b"HTTP/1.0 200") || answer.starts_with(b"HTTP/1.1 200")
}

impl Server {
    /// Start the server on a free port (another try on another port if that one was taken in
    /// the meantime) and wait until it is healthy.
    async fn start(binary: &Path) -> Server {
        for _ in 0..3 {
            let data = tempfile::tempdir().unwrap();
            let port = free_port();
            let mut command = std::process::Command::new(binary);
            command
                .arg("--bind")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data-dir")
                .arg(data.path())
                .args(["--argon2-memory-kib", "256", "--argon2-iterations", "1"])
                .stdin(Stdio::null())
                .stdout(Stdio::null());
            // Only these settings: none inherited from the environment (e.g. open direct
            // messages, which this test relies on being off).
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("CONFAB_") {
                    command.env_remove(key);
                }
            }
            command.env("CONFAB_LOG", "warn");
            let mut server = Server {
                child: command.spawn().expect("confab-server starts"),
                url: format!("http://127.0.0.1:{port}"),
                _data: data,
            };
            for _ in 0..400 {
                if healthy(port).await {
                    return server;
                }
                if server.child.try_wait().unwrap().is_some() {
                    break; // it exited: most likely the port was taken
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            drop(server);
        }
        panic!("confab-server did not become healthy");
    }
}

/// One user of the command-line client, with their own configuration folder.
struct User {
    name: &'static str,
    id: i64,
    config: tempfile::TempDir,
    server: String,
}

impl User {
    async fn new(server: &Server, name: &'static str) -> User {
        let mut user = User {
            name,
            id: 0,
            config: tempfile::tempdir().unwrap(),
            server: server.url.clone(),
        };
        let registered = user.one(&["register", name, "--password", PASSWORD]).await;
        assert_eq!(registered["username"], name);
        let login = user.one(&["login", name, "--password", PASSWORD]).await;
        assert_eq!(login["user"], registered);
        user.id = registered["id"].as_i64().expect("a user id");
        user
    }

    /// Run `confab` as this user.
    async fn run(&self, args: &[&str]) -> Output {
        let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_confab"))
            .args(args)
            .env("CONFAB_CONFIG_DIR", self.config.path())
            .env("CONFAB_SERVER", &self.server)
            .env_remove("CONFAB_PASSWORD")
            .env_remove("CONFAB_LOG")
            .stdin(Stdio::null())
            .output();
        tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("{} {args:?} did not finish", self.name))
            .expect("confab runs")
    }

    /// `confab --json ARGS`, which must succeed: its JSON lines.
    async fn ok(&self, args: &[&str]) -> Vec<Value> {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all).await;
        assert!(
            out.status.success(),
            "{} {args:?} failed ({:?}): {}",
            self.name,
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("{args:?} printed {line:?}, not JSON: {e}"))
            })
            .collect()
    }

    /// `confab --json ARGS`, which must print exactly one JSON object.
    async fn one(&self, args: &[&str]) -> Value {
        let mut lines = self.ok(args).await;
        assert_eq!(lines.len(), 1, "{} {args:?}: {lines:?}", self.name);
        lines.remove(0)
    }

    /// `confab --json ARGS`, which must fail with exit status 1 and `error: CODE: ` on stderr.
    async fn refused(&self, args: &[&str], code: &str) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run(&all).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{} {args:?} should fail with {code}; stderr: {stderr}",
            self.name
        );
        assert!(
            stderr.starts_with(&format!("error: {code}: ")),
            "{} {args:?} should fail with {code}; stderr: {stderr}",
            self.name
        );
        assert!(out.stdout.is_empty(), "nothing on stdout after a failure");
    }

    /// `confab ARGS` in its human form, which must succeed: its stdout.
    async fn human(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{} {args:?}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// `group members --json` as username → member.
async fn members(user: &User, group: &str) -> HashMap<String, Value> {
    user.ok(&["group", "members", group])
        .await
        .into_iter()
        .map(|m| (m["user"]["username"].as_str().unwrap().to_string(), m))
        .collect()
}

#[tokio::test]
async fn friends_direct_messages_and_a_groups_life() {
    let Some(binary) = server_binary() else {
        println!(
            "skipping friends_direct_messages_and_a_groups_life: no confab-server binary next \
             to confab or at ../target/debug/confab-server; build it with \
             `cargo build -p confab-server`"
        );
        eprintln!("skipped: confab-server is not built");
        return;
    };
    let server = Server::start(&binary).await;
    let alice = User::new(&server, "alice").await;
    let bob = User::new(&server, "bob").await;
    let carol = User::new(&server, "carol").await;

    // ---- people ----------------------------------------------------------------------

    let found = alice.ok(&["search", "bo"]).await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["username"], "bob");

    // Direct messages need friendship by default.
    assert_eq!(
        alice.one(&["settings"]).await["direct_messages"],
        "friends_only"
    );
    alice
        .refused(&["send", "--to", "bob", "too soon"], "not_allowed")
        .await;

    let asked = alice
        .one(&["friend", "request", "bob", "--note", "hi, it's alice"])
        .await;
    assert_eq!(
        (asked["user"]["username"].as_str(), asked["status"].as_str()),
        (Some("bob"), Some("pending"))
    );

    let incoming = bob.ok(&["friend", "requests"]).await;
    assert_eq!(incoming.len(), 1, "{incoming:?}");
    assert_eq!(incoming[0]["direction"], "incoming");
    assert_eq!(incoming[0]["from"]["username"], "alice");
    assert_eq!(incoming[0]["note"], "hi, it's alice");
    let outgoing = alice.ok(&["friend", "requests"]).await;
    assert_eq!(outgoing[0]["direction"], "outgoing");
    assert_eq!(outgoing[0]["to"]["username"], "bob");

    let friend = bob.one(&["friend", "accept", "alice"]).await;
    assert_eq!(friend["user"]["username"], "alice");
    bob.refused(&["friend", "accept", "alice"], "not_found")
        .await;
    assert!(bob.ok(&["friend", "requests"]).await.is_empty());
    alice
        .refused(&["friend", "request", "bob"], "already_exists")
        .await;

    let friends = alice.ok(&["friend", "list"]).await;
    assert_eq!(friends.len(), 1, "{friends:?}");
    assert_eq!(friends[0]["user"]["username"], "bob");
    assert_eq!(friends[0]["remark"], Value::Null);
    let remark = alice.one(&["friend", "remark", "bob", "Bobby", "B"]).await;
    assert_eq!(remark["remark"], "Bobby B");
    let friends = alice.ok(&["friend", "list"]).await;
    assert_eq!(friends[0]["remark"], "Bobby B");
    let table = alice.human(&["friend", "list"]).await;
    assert!(
        table.contains("REMARK") && table.contains("Bobby B"),
        "{table}"
    );

    let sent = alice.one(&["send", "--to", "bob", "hello", "bob"]).await;
    let direct = sent["conversation_id"].as_i64().unwrap().to_string();
    let history = bob.ok(&["history", &direct]).await;
    let last = history.last().expect("the message");
    assert_eq!(
        (
            last["content"]["text"].as_str(),
            last["sender_id"].as_i64(),
            last["seq"].as_i64()
        ),
        (Some("hello bob"), Some(alice.id), sent["seq"].as_i64())
    );

    // ---- a group -----------------------------------------------------------------------

    let group = alice.one(&["group", "create", "Team"]).await;
    assert_eq!(
        (group["role"].as_str(), group["member_count"].as_u64()),
        (Some("owner"), Some(1))
    );
    let g = group["id"].as_i64().unwrap().to_string();
    let g = g.as_str();

    let invited = alice.one(&["group", "invite", g, "bob", "carol"]).await;
    let invited: Vec<&str> = invited["invited"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(invited, ["bob", "carol"]);
    alice
        .refused(&["group", "invite", g, "nobody"], "not_found")
        .await;

    let info = alice
        .one(&["group", "announce", g, "standup", "at", "10"])
        .await;
    assert_eq!(info["announcement"], "standup at 10");
    assert_eq!(info["member_count"], 3);

    let nick = bob.one(&["group", "nick", g, "Bobster"]).await;
    assert_eq!(nick["nickname"], "Bobster");
    let remark = bob.one(&["group", "remark", g, "work"]).await;
    assert_eq!(remark["remark"], "work");
    let info = bob.one(&["group", "info", g]).await;
    assert_eq!(
        (
            info["my_role"].as_str(),
            info["my_nickname"].as_str(),
            info["my_remark"].as_str(),
            info["announcement"].as_str()
        ),
        (
            Some("member"),
            Some("Bobster"),
            Some("work"),
            Some("standup at 10")
        )
    );
    // The invite code is for owners and admins only.
    assert_eq!(info["invite_code"], Value::Null);

    // Plain members may not moderate: a typed refusal, exit status 1.
    bob.refused(&["group", "kick", g, "carol"], "forbidden")
        .await;
    bob.refused(&["group", "mute", g, "carol", "10m"], "forbidden")
        .await;
    bob.refused(&["group", "announce", g, "mine now"], "forbidden")
        .await;

    let promoted = alice.one(&["group", "admin", g, "bob"]).await;
    assert_eq!(promoted["role"], "admin");

    let muted = alice.one(&["group", "mute", g, "carol", "10m"]).await;
    assert_eq!(
        (
            muted["user"]["username"].as_str(),
            muted["duration_secs"].as_u64()
        ),
        (Some("carol"), Some(600))
    );
    carol
        .refused(&["send", "--conversation", g, "let me speak"], "muted")
        .await;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let roster = members(&alice, g).await;
    assert_eq!(roster.len(), 3, "{roster:?}");
    assert_eq!(roster["alice"]["role"], "owner");
    assert_eq!(roster["bob"]["role"], "admin");
    assert_eq!(roster["carol"]["role"], "member");
    assert_eq!(roster["bob"]["nickname"], "Bobster");
    let until = roster["carol"]["muted_until"]
        .as_i64()
        .expect("carol is muted");
    assert!(
        (now + 500_000..now + 700_000).contains(&until),
        "muted until {until}, now {now}"
    );
    let table = alice.human(&["group", "members", g]).await;
    assert!(
        table.contains("NICKNAME") && table.contains("Bobster"),
        "{table}"
    );

    let lifted = alice.one(&["group", "mute", g, "carol", "0"]).await;
    assert_eq!(lifted["duration_secs"], 0);
    carol.one(&["send", "--conversation", g, "thanks"]).await;

    // An admin removes a member.
    let kicked = bob.one(&["group", "kick", g, "carol"]).await;
    assert_eq!(
        (
            kicked["user"]["username"].as_str(),
            kicked["kicked"].as_bool()
        ),
        (Some("carol"), Some(true))
    );
    carol
        .refused(&["send", "--conversation", g, "still here?"], "not_member")
        .await;
    let roster = members(&bob, g).await;
    assert_eq!(roster.len(), 2);
    assert!(!roster.contains_key("carol"));

    // Back in with the invite code.
    let code = alice.one(&["group", "code", g]).await;
    let code = code["invite_code"].as_str().expect("a code").to_string();
    let joined = carol.one(&["group", "join", "--code", &code]).await;
    assert_eq!(
        (
            joined["conversation_id"].as_i64(),
            joined["outcome"].as_str()
        ),
        (g.parse().ok(), Some("joined"))
    );
    assert_eq!(members(&alice, g).await.len(), 3);

    // Only the owner dissolves.
    bob.refused(&["group", "dissolve", g], "forbidden").await;
    let dissolved = alice.one(&["group", "dissolve", g]).await;
    assert_eq!(dissolved["dissolved"], true);
    assert_eq!(alice.one(&["group", "info", g]).await["dissolved"], true);
    bob.refused(&["send", "--conversation", g, "hello?"], "group_dissolved")
        .await;

    // The group's story, as system lines.
    let story = alice.human(&["history", g]).await;
    for line in [
        "alice created the group \"Team\"",
        "alice invited bob, carol",
        "announcement updated by alice: standup at 10",
        "bob is now known here as \"Bobster\"",
        "alice made bob an admin",
        "carol was muted by alice until ",
        "carol was unmuted by alice",
        "carol was removed by bob",
        "carol joined",
        "group dissolved by alice",
    ] {
        assert!(story.contains(line), "{line:?} missing from:\n{story}");
    }
}
