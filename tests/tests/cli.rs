//! The `confab` command-line client against a real server process: register, log in, send,
//! unread counts, read, recall, listen.

use std::process::{Command, Output, Stdio};

use confab_tests::{free_port, workspace_bin, ServerProcess};
use serde_json::Value;

struct Cli {
    server: String,
    config: tempfile::TempDir,
}

impl Cli {
    fn new(server: &str) -> Cli {
        Cli {
            server: server.to_owned(),
            config: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(workspace_bin("confab"));
        c.args(args)
            .arg("--server")
            .arg(&self.server)
            .env("CONFAB_CONFIG_DIR", self.config.path())
            .env_remove("CONFAB_SERVER")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("confab runs")
    }

    /// Runs with `--json` and returns each stdout line as JSON; panics on a non-zero exit.
    fn json(&self, args: &[&str]) -> Vec<Value> {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "confab {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect()
    }
}

#[tokio::test]
async fn cli_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), free_port()).await;
    let alice = Cli::new(&server.base_url);
    let bob = Cli::new(&server.base_url);

    alice.json(&["register", "alice", "--password", "Sunny-day-42"]);
    bob.json(&["register", "bob", "--password", "Rainy-night-7"]);
    alice.json(&["login", "alice", "--password", "Sunny-day-42"]);
    bob.json(&["login", "bob", "--password", "Rainy-night-7"]);
    assert_eq!(bob.json(&["whoami"])[0]["user"]["username"], "bob");

    // Bob listens for one event in the background.
    let listener = bob
        .command(&["listen", "--count", "1", "--timeout", "20", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;

    let sent = alice.json(&["send", "--to", "bob", "hello", "from", "the", "cli"]);
    let conv = sent[0]["conversation_id"].as_i64().unwrap();
    assert_eq!(sent[0]["seq"], 1);
    alice.json(&["send", "--conversation", &conv.to_string(), "second"]);

    let heard = listener.wait_with_output().unwrap();
    assert!(heard.status.success());
    let event: Value = serde_json::from_slice(
        String::from_utf8(heard.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(event["event"], "message");
    assert_eq!(event["data"]["content"]["text"], "hello from the cli");

    let convs = bob.json(&["conversations"]);
    assert_eq!(convs[0]["id"], conv);
    assert_eq!(convs[0]["unread"], 2);

    bob.json(&["read", &conv.to_string()]);
    assert_eq!(bob.json(&["conversations"])[0]["unread"], 0);

    alice.json(&["recall", &conv.to_string(), "2"]);
    let history = bob.json(&["history", &conv.to_string()]);
    assert_eq!(history[1]["content"]["type"], "recalled");
    assert_eq!(history[2]["content"]["kind"], "message_recalled");

    // Errors: non-zero exit with the typed code on stderr.
    let out = bob.run(&["recall", &conv.to_string(), "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forbidden"));
    let out = alice.run(&["login", "alice", "--password", "Wrong-pass-99"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong_credentials"));

    // Logging out forgets the token and revokes the session.
    alice.json(&["logout"]);
    let out = alice.run(&["conversations"]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn cli_sends_files_by_their_content_and_downloads_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(dir.path(), free_port()).await;
    let alice = Cli::new(&server.base_url);
    let bob = Cli::new(&server.base_url);
    alice.json(&["register", "alice", "--password", "Sunny-day-42"]);
    bob.json(&["register", "bob", "--password", "Rainy-night-7"]);
    alice.json(&["login", "alice", "--password", "Sunny-day-42"]);
    bob.json(&["login", "bob", "--password", "Rainy-night-7"]);

    // A picture named like a document is still sent as an image.
    let picture = dir.path().join("not-a-picture.txt");
    image::RgbImage::from_pixel(64, 48, image::Rgb([200, 10, 10]))
        .save_with_format(&picture, image::ImageFormat::Png)
        .unwrap();
    let sent = alice.json(&["send-file", picture.to_str().unwrap(), "--to", "bob"]);
    assert_eq!(sent[0]["kind"], "image");
    assert_eq!(sent[0]["content"]["width"], 64);
    assert_eq!(sent[0]["content"]["height"], 48);
    let conv = sent[0]["sent"]["conversation_id"].as_i64().unwrap();

    let mut pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n".to_vec();
    pdf.extend((0..20_000u32).map(|i| (i * 7 % 251) as u8));
    let doc = dir.path().join("minutes.pdf");
    std::fs::write(&doc, &pdf).unwrap();
    let sent = alice.json(&[
        "send-file",
        doc.to_str().unwrap(),
        "--conversation",
        &conv.to_string(),
    ]);
    assert_eq!(sent[0]["kind"], "file");
    assert_eq!(sent[0]["content"]["name"], "minutes.pdf");
    let id = sent[0]["content"]["media"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let history = bob.json(&["history", &conv.to_string()]);
    assert_eq!(history[0]["content"]["type"], "image");
    assert_eq!(history[1]["content"]["type"], "file");

    let out = dir.path().join("bob-minutes.pdf");
    let got = bob.json(&["download", &id, "-o", out.to_str().unwrap()]);
    assert_eq!(got[0]["bytes"], pdf.len());
    assert_eq!(std::fs::read(&out).unwrap(), pdf);

    // Someone outside the conversation cannot download it.
    let carol = Cli::new(&server.base_url);
    carol.json(&["register", "carol", "--password", "Windy-hill-3"]);
    carol.json(&["login", "carol", "--password", "Windy-hill-3"]);
    let refused = carol.run(&["download", &id, "-o", out.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("forbidden"));
}
