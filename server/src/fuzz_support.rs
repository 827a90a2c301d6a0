//! Entry points shared by the fuzz targets (`fuzz/`) and the stable test that replays their
//! corpus (`tests/tests/fuzz_corpus.rs`). Not part of the server's API.

use confab_proto::{encode_error, ClientFrame, ErrorCode, Request, ServerFrame};
use tokio::runtime::Runtime;

use crate::broker::LocalBroker;
use crate::config::Config;
use crate::gateway::dispatch::dispatch;
use crate::gateway::hub::Hub;
use crate::state::{Actor, AppState};
use crate::store::sqlite::SqliteStore;

/// Frame decoding never panics; what decodes re-encodes to the same frame; what does not gets
/// a typed error that encodes.
pub fn frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ClientFrame::decode(text) {
        Ok(frame) => {
            let again = ClientFrame::decode(&frame.encode()).expect("a re-encoded frame decodes");
            assert_eq!(again, frame, "encode/decode round trip");
        }
        Err(e) => {
            let encoded = encode_error(e.id, &e.error);
            assert!(ServerFrame::decode(&encoded).is_ok());
        }
    }
    let _ = ServerFrame::decode(text);
}

/// A server state with a few users, a direct chat and a group, to run decoded requests
/// against the real dispatch table and store.
pub struct Dispatcher {
    runtime: Runtime,
    state: AppState,
    actors: Vec<Actor>,
    _dir: tempfile::TempDir,
}

impl Default for Dispatcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Dispatcher {
    pub fn new() -> Dispatcher {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            argon2_memory_kib: 64,
            argon2_iterations: 1,
            open_direct_messages: true,
            ..Config::default()
        };
        let (state, actors) = runtime.block_on(async {
            let store = std::sync::Arc::new(SqliteStore::open(&config.data_dir).expect("store"));
            let hub = std::sync::Arc::new(Hub::default());
            let broker = std::sync::Arc::new(LocalBroker::new(hub.clone()));
            let conversations =
                std::sync::Arc::new(crate::conversations::ConversationCache::default());
            let dir = config.data_dir.clone();
            let ports = crate::state::Ports {
                store,
                broker,
                blobs: std::sync::Arc::new(
                    crate::blobs::ObjectBlobStore::local(&dir.join("blobs")).expect("blobs"),
                ),
                media_signer: crate::media::UrlSigner::load_or_create(&dir.join("media.key"))
                    .expect("media key"),
                media_tmp: crate::media::prepare_tmp_dir(&dir).expect("tmp dir"),
            };
            let assistant =
                crate::assistant::Assistant::new(&config.assistant).expect("assistant config");
            let state = AppState::new(config, ports, hub, conversations, assistant);
            let mut actors = vec![];
            for name in ["fuzz_a", "fuzz_b", "fuzz_c"] {
                crate::accounts::register(
                    &state,
                    confab_proto::http::RegisterRequest {
                        username: name.into(),
                        password: "Fuzz-pass-1".into(),
                        display_name: None,
                    },
                )
                .await
                .expect("register");
                let login = crate::accounts::login(
                    &state,
                    confab_proto::http::LoginRequest {
                        username: name.into(),
                        password: "Fuzz-pass-1".into(),
                        device_name: None,
                    },
                )
                .await
                .expect("login");
                actors.push(Actor {
                    user_id: login.user.id,
                    device_id: login.device_id,
                    conn_id: None,
                });
            }
            let group = Request::CreateGroup(confab_proto::CreateGroup {
                name: "fuzz".into(),
                members: vec![actors[1].user_id, actors[2].user_id],
            });
            dispatch(&state, &actors[0], 1, group).await.expect("group");
            (state, actors)
        });
        Dispatcher {
            runtime,
            state,
            actors,
            _dir: dir,
        }
    }

    /// Runs one frame as one of the users (chosen by the frame id). Any answer is fine except
    /// an internal error, which would mean a bug reached the client as a fault.
    pub fn run(&self, data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(frame) = ClientFrame::decode(text) else {
            return;
        };
        let actor = &self.actors[(frame.id % self.actors.len() as u64) as usize];
        let result = self.runtime.block_on(dispatch(
            &self.state,
            actor,
            frame.id,
            frame.request.clone(),
        ));
        if let Err(e) = result {
            assert_ne!(
                e.code,
                ErrorCode::Internal,
                "internal error for {:?}: {}",
                frame.request,
                e.message
            );
        }
    }
}

/// The media probes run on an upload's bytes exactly as the upload path runs them: sniffing,
/// reconciling with every declared kind, image decoding and thumbnailing under the configured
/// limits, audio duration, MP4 box walking and file-name cleaning. None may panic, hang or
/// answer an image with anything but a typed media error.
pub fn media(data: &[u8]) {
    use crate::media::probe;
    use confab_proto::MediaKind;

    // Small limits keep each run fast; the checks are the same at any size.
    let config = Config {
        max_image_pixels: 1_000_000,
        max_image_side: 4_096,
        thumbnail_max_side: 64,
        ..Config::default()
    };
    let sniffed = probe::sniff(&data[..data.len().min(probe::SNIFF_BYTES)]);
    for declared in [
        None,
        Some(MediaKind::Image),
        Some(MediaKind::Voice),
        Some(MediaKind::Video),
        Some(MediaKind::File),
    ] {
        if let Ok(kind) = probe::reconcile(declared, &sniffed) {
            assert!(
                declared.is_none_or(|d| d == kind),
                "{declared:?} stored as {kind:?}"
            );
        }
    }
    let _ = probe::kind_of_content_type(&String::from_utf8_lossy(data));
    let name = probe::sanitize_name(&String::from_utf8_lossy(data));
    assert!(!name.is_empty() && name.chars().count() <= 200);
    assert!(!name.contains(['/', '\\']) && !name.starts_with('.'));

    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    std::io::Write::write_all(&mut file, data).expect("write temp file");
    let path = file.path();
    match probe::image(path, &config) {
        Ok(info) => {
            assert!(info.width > 0 && info.height > 0);
            assert!(u64::from(info.width) * u64::from(info.height) <= config.max_image_pixels);
            let t = info.thumb.size;
            assert!(t.width <= config.thumbnail_max_side && t.height <= config.thumbnail_max_side);
            assert!(!info.thumb.jpeg.is_empty());
        }
        Err(e) => assert!(
            matches!(e.code, ErrorCode::InvalidMedia | ErrorCode::ImageTooLarge),
            "an image is refused with {:?}: {}",
            e.code,
            e.message
        ),
    }
    let _ = probe::audio_duration_ms(path, &sniffed.mime);
    let _ = probe::mp4_info(path);
}
