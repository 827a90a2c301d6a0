//! Media against the real server over real HTTP: every file is generated here (PNG, JPEG with
//! an EXIF rotation, WAV, Ogg/Opus, MP4, a PDF-like binary), uploaded, measured, sent, fetched
//! by members and refused to others; bad uploads leave nothing behind.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Duration;

use confab_proto::{
    Content, ErrorCode, GroupUser, MediaKind, Request, Target, Thumbnail, UploadResponse,
};
use confab_sdk::Client;
use confab_tests::{call, TestServer};
use image::{DynamicImage, ImageFormat, RgbImage};

const WAIT: Duration = Duration::from_secs(10);

// ---- generated media ----------------------------------------------------------------------

fn png(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// A JPEG whose pixels are `width`×`height` with an EXIF APP1 segment saying
/// "orientation 6" (rotate 90° clockwise to display), inserted right after SOI.
fn jpeg_rotated(width: u32, height: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 40, 200]));
    let mut plain = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut Cursor::new(&mut plain), ImageFormat::Jpeg)
        .unwrap();
    assert_eq!(&plain[..2], &[0xFF, 0xD8]);
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a"); // big-endian TIFF
    tiff.extend_from_slice(&8u32.to_be_bytes()); // IFD0 right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // count
    tiff.extend_from_slice(&[0, 6, 0, 0]); // value 6, padded
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

/// PCM WAV, mono, 16-bit.
fn wav(sample_rate: u32, samples: u32) -> Vec<u8> {
    let data_len = samples * 2;
    let mut out = Vec::new();
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..samples {
        let v = ((i as f32 * 0.05).sin() * 8000.0) as i16;
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, initial value 0.
fn ogg_crc(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

fn ogg_page(header_type: u8, granule: u64, seq: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut segments = Vec::new();
    let mut body = Vec::new();
    for p in packets {
        let mut left = p.len();
        while left >= 255 {
            segments.push(255u8);
            left -= 255;
        }
        segments.push(left as u8);
        body.extend_from_slice(p);
    }
    let mut page = b"OggS".to_vec();
    page.push(0);
    page.push(header_type);
    page.extend_from_slice(&granule.to_le_bytes());
    page.extend_from_slice(&0x0c0f_ab00u32.to_le_bytes()); // stream serial
    page.extend_from_slice(&seq.to_le_bytes());
    page.extend_from_slice(&[0; 4]); // CRC, filled in below
    page.push(segments.len() as u8);
    page.extend_from_slice(&segments);
    page.extend_from_slice(&body);
    let crc = ogg_crc(&page);
    page[22..26].copy_from_slice(&crc.to_le_bytes());
    page
}

/// A minimal Ogg/Opus stream (RFC 7845): OpusHead, OpusTags, then `frames` 20 ms packets of
/// silence (`0xF8 0xFF 0xFE`: CELT full-band, 20 ms, one frame).
fn ogg_opus(frames: u32, pre_skip: u16) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0); // mapping family
    let mut tags = b"OpusTags".to_vec();
    let vendor = b"confab-test";
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    let packets: Vec<Vec<u8>> = (0..frames).map(|_| vec![0xF8, 0xFF, 0xFE]).collect();
    let granule = u64::from(pre_skip) + u64::from(frames) * 960;
    let mut out = ogg_page(0x02, 0, 0, &[head]);
    out.extend(ogg_page(0x00, 0, 1, &[tags]));
    out.extend(ogg_page(0x04, granule, 2, &packets));
    out
}

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// An MP4 skeleton: `ftyp`, `moov` with `mvhd` (duration) and one video `trak` (`tkhd` with the
/// dimensions, `mdia/hdlr` = `vide`), and a small `mdat`. Not playable; enough to be measured.
fn mp4(duration_ms: u32, width: u32, height: u32) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"isom\0\0\x02\0isommp41");
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes()); // timescale
    mvhd[16..20].copy_from_slice(&duration_ms.to_be_bytes());
    mvhd[20..24].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    let mut tkhd = vec![0u8; 84];
    tkhd[3] = 3; // enabled, in movie
    tkhd[76..80].copy_from_slice(&(width << 16).to_be_bytes());
    tkhd[80..84].copy_from_slice(&(height << 16).to_be_bytes());
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"VideoHandler\0");
    let mdia = mp4_box(b"mdia", &mp4_box(b"hdlr", &hdlr));
    let mut trak = mp4_box(b"tkhd", &tkhd);
    trak.extend(mdia);
    let mut moov = mp4_box(b"mvhd", &mvhd);
    moov.extend(mp4_box(b"trak", &trak));
    let mut out = ftyp;
    out.extend(mp4_box(b"moov", &moov));
    out.extend(mp4_box(b"mdat", &[0u8; 64]));
    out
}

fn pdf_like(len: usize) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n".to_vec();
    let mut x = 0x1234_5678u32;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out.push(x as u8);
    }
    out
}

/// PNG's CRC-32 (the reflected one, as zlib's).
fn png_crc(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&png_crc(&crc_input).to_be_bytes());
    out
}

/// A valid PNG header claiming `side`×`side` RGB pixels, with almost no data: a
/// decompression bomb's shape.
fn png_bomb(side: u32) -> Vec<u8> {
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&side.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

// ---- helpers ------------------------------------------------------------------------------

/// Every file under `dir` (recursively).
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn blob_files(server: &TestServer) -> Vec<PathBuf> {
    files_under(&server.dir.path().join("blobs"))
}

fn tmp_files(server: &TestServer) -> Vec<PathBuf> {
    files_under(&server.dir.path().join("tmp"))
}

/// A raw HTTP upload: the status and the JSON answer.
async fn post_media(
    server: &TestServer,
    token: &str,
    query: &str,
    content_type: Option<&str>,
    body: Vec<u8>,
) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v1/media{query}", server.base_url))
        .bearer_auth(token)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.expect("an answer");
    let status = res.status().as_u16();
    (status, res.json().await.expect("a JSON answer"))
}

fn error_code(answer: &serde_json::Value) -> ErrorCode {
    serde_json::from_value(answer["error"]["code"].clone()).expect("a typed error")
}

async fn get(url: &str, token: Option<&str>, range: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.expect("an answer")
}

async fn status_and_code(res: reqwest::Response) -> (u16, Option<ErrorCode>) {
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap_or_default();
    (
        status,
        serde_json::from_value(body["error"]["code"].clone()).ok(),
    )
}

fn media_id(up: &UploadResponse) -> String {
    up.content.media().expect("media content").id.clone()
}

async fn user_id(client: &Client) -> i64 {
    client.user().id
}

// ---- tests --------------------------------------------------------------------------------

#[tokio::test]
async fn images_are_measured_oriented_and_thumbnailed() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;

    let png_bytes = png(640, 480);
    let up = alice
        .upload_bytes(png_bytes.clone(), Some("gradient.png"), None)
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::Image);
    assert!(!up.duplicate);
    match &up.content {
        Content::Image {
            media,
            width,
            height,
            thumbnail,
            placeholder,
        } => {
            assert_eq!(media.mime, "image/png");
            assert_eq!(media.size, png_bytes.len() as u64);
            assert_eq!(media.id, sha256_hex(&png_bytes));
            assert_eq!((*width, *height), (640, 480));
            assert_eq!(
                *thumbnail,
                Some(Thumbnail {
                    width: 320,
                    height: 240
                })
            );
            let p = placeholder.as_deref().unwrap();
            assert!(p.len() == 7 && p.starts_with('#'), "{p}");
        }
        other => panic!("not an image: {other:?}"),
    }
    // The thumbnail behind the signed URL has exactly those dimensions.
    let thumb_url = format!("{}{}", server.base_url, up.thumbnail_url.clone().unwrap());
    let res = get(&thumb_url, None, None).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));

    // A 400×200 JPEG that says "rotate 90°": stored as 200×400, thumbnail 160×320.
    let jpeg = jpeg_rotated(400, 200);
    let up = alice
        .upload_bytes(jpeg, Some("photo.jpg"), Some(MediaKind::Image))
        .await
        .unwrap();
    match &up.content {
        Content::Image {
            media,
            width,
            height,
            thumbnail,
            ..
        } => {
            assert_eq!(media.mime, "image/jpeg");
            assert_eq!((*width, *height), (200, 400));
            assert_eq!(
                *thumbnail,
                Some(Thumbnail {
                    width: 160,
                    height: 320
                })
            );
        }
        other => panic!("not an image: {other:?}"),
    }
    let res = get(
        &format!("{}{}", server.base_url, up.thumbnail_url.clone().unwrap()),
        None,
        None,
    )
    .await;
    let thumb = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (160, 320));

    // Sent as a message, Bob gets the same metadata, without downloading anything.
    let sent = alice
        .send_media(Target::User(user_id(&bob).await), up.content.clone())
        .await
        .unwrap();
    let m = bob.next_message(WAIT).await.unwrap();
    assert_eq!((m.conversation_id, m.seq), (sent.conversation_id, sent.seq));
    assert_eq!(m.content, up.content);
    // And may fetch it with his own token.
    let res = get(
        &format!("{}/api/v1/media/{}", server.base_url, media_id(&up)),
        Some(&bob_token(&server, "bob").await),
        None,
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-disposition"], "inline");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A fresh token for an existing user (a second device).
async fn bob_token(server: &TestServer, username: &str) -> String {
    confab_tests::login(&server.base_url, username, "http")
        .await
        .token
}

/// A recording the audio demuxer panics on (found by fuzzing: a WebM header with a zero length
/// byte) is still accepted, with its duration unknown, and the server keeps serving.
#[tokio::test]
async fn a_recording_the_demuxer_chokes_on_is_stored_without_a_duration() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions/media/webm-ebml-zero-vint");
    let mut bytes = std::fs::read(&path).unwrap();
    // Sniffing calls it WebM only past 256 bytes; the demuxer fails at byte 7 either way.
    bytes.resize(300, 0);
    let up = alice
        .upload_bytes(bytes, Some("note.webm"), Some(MediaKind::Voice))
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::Voice);
    match &up.content {
        Content::Voice { duration_ms, .. } => assert_eq!(*duration_ms, None),
        other => panic!("not voice: {other:?}"),
    }
    // The next upload is measured as usual.
    let up = alice
        .upload_bytes(wav(8000, 8000), Some("ok.wav"), Some(MediaKind::Voice))
        .await
        .unwrap();
    assert!(matches!(
        up.content,
        Content::Voice {
            duration_ms: Some(1000),
            ..
        }
    ));
}

#[tokio::test]
async fn voice_video_and_files_carry_their_metadata() {
    let server = TestServer::open().await;
    let (alice, login) = server.client("alice").await;

    // WAV: 12,000 samples at 8 kHz = 1.5 s.
    let up = alice
        .upload_bytes(wav(8000, 12_000), Some("note.wav"), Some(MediaKind::Voice))
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::Voice);
    match &up.content {
        Content::Voice { media, duration_ms } => {
            assert!(media.mime.contains("wav"), "{}", media.mime);
            assert_eq!(*duration_ms, Some(1500));
        }
        other => panic!("not voice: {other:?}"),
    }

    // Ogg/Opus: 50 packets of 20 ms after a 312-sample pre-skip = 1.0 s.
    let up = alice
        .upload_bytes(ogg_opus(50, 312), Some("note.opus"), None)
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::Voice);
    match &up.content {
        Content::Voice { media, duration_ms } => {
            assert!(
                media.mime.contains("ogg") || media.mime.contains("opus"),
                "{}",
                media.mime
            );
            assert_eq!(*duration_ms, Some(1000));
        }
        other => panic!("not voice: {other:?}"),
    }

    // MP4: 2.5 s, 320×240. A poster needs ffmpeg; without it there is none, and no error.
    let up = alice
        .upload_bytes(mp4(2500, 320, 240), Some("clip.mp4"), None)
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::Video);
    match &up.content {
        Content::Video {
            media,
            duration_ms,
            width,
            height,
            poster,
        } => {
            assert_eq!(media.mime, "video/mp4");
            assert_eq!(*duration_ms, Some(2500));
            assert_eq!((*width, *height), (Some(320), Some(240)));
            // This skeleton has no frames, so even ffmpeg makes no poster of it.
            assert_eq!(*poster, None);
        }
        other => panic!("not video: {other:?}"),
    }
    assert_eq!(up.thumbnail_url, None);
    real_video_poster(&server, &alice).await;

    // A PDF-like binary keeps its (sanitized) name and downloads under it.
    let pdf = pdf_like(50_000);
    let up = alice
        .upload_bytes(pdf.clone(), Some("../../Quarterly report é.pdf"), None)
        .await
        .unwrap();
    assert_eq!(up.kind, MediaKind::File);
    match &up.content {
        Content::File { media, name } => {
            assert_eq!(media.mime, "application/pdf");
            assert_eq!(media.size, 50_000);
            assert_eq!(name, "Quarterly report é.pdf");
        }
        other => panic!("not a file: {other:?}"),
    }
    let res = get(
        &format!("{}/api/v1/media/{}", server.base_url, media_id(&up)),
        Some(&login.token),
        None,
    )
    .await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"Quarterly report _.pdf\"; filename*=UTF-8''Quarterly%20report%20%C3%A9.pdf"
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), pdf.as_slice());

    // The SDK's streamed download writes the same bytes.
    let dest = server.dir.path().join("downloaded.pdf");
    let n = alice.download(&media_id(&up), false, &dest).await.unwrap();
    assert_eq!(n, 50_000);
    assert_eq!(std::fs::read(&dest).unwrap(), pdf);
}

/// With ffmpeg on the PATH: a real one-second MP4 gets a poster frame of its size.
async fn real_video_poster(server: &TestServer, alice: &Client) {
    let out = server.dir.path().join("real.mp4");
    let made = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=160x120:rate=10",
        ])
        .args(["-pix_fmt", "yuv420p"])
        .arg(&out)
        .status();
    match made {
        Ok(s) if s.success() => {}
        Ok(s) => {
            println!("skipping the real-video poster check: ffmpeg failed ({s})");
            return;
        }
        Err(e) => {
            println!("skipping the real-video poster check: ffmpeg is not on the PATH ({e})");
            return;
        }
    }
    let up = alice.upload_file(&out, None).await.unwrap();
    println!("ffmpeg-made MP4: {:?}", up.content);
    match &up.content {
        Content::Video {
            duration_ms,
            width,
            height,
            poster,
            ..
        } => {
            assert_eq!((*width, *height), (Some(160), Some(120)));
            assert!(
                duration_ms.is_some_and(|d| (900..=1100).contains(&d)),
                "{duration_ms:?}"
            );
            assert_eq!(
                *poster,
                Some(Thumbnail {
                    width: 160,
                    height: 120
                })
            );
        }
        other => panic!("not video: {other:?}"),
    }
}

#[tokio::test]
async fn only_the_uploader_and_current_members_may_fetch() {
    let server = TestServer::open().await;
    let (alice, a) = server.client("alice").await;
    let (bob, b) = server.client("bob").await;
    let (carol, c) = server.client("carol").await;
    let (dave, d) = server.client("dave").await;

    let bytes = pdf_like(10_000);
    let up = alice
        .upload_bytes(bytes.clone(), Some("plan.pdf"), None)
        .await
        .unwrap();
    let id = media_id(&up);
    let url = format!("{}/api/v1/media/{id}", server.base_url);

    // Before it is sent, only the uploader may fetch it.
    assert_eq!(get(&url, Some(&a.token), None).await.status().as_u16(), 200);
    assert_eq!(
        status_and_code(get(&url, Some(&b.token), None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );
    assert_eq!(
        status_and_code(get(&url, None, None).await).await,
        (401, Some(ErrorCode::Unauthenticated))
    );

    // Sent in a group of Alice, Bob and Carol.
    let group = alice
        .create_group("plans", vec![user_id(&bob).await, user_id(&carol).await])
        .await
        .unwrap()
        .id;
    alice
        .send_media(Target::Conversation(group), up.content.clone())
        .await
        .unwrap();
    for token in [&b.token, &c.token] {
        let res = get(&url, Some(token), None).await;
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.bytes().await.unwrap().as_ref(), bytes.as_slice());
    }
    // Dave, not a member, is refused, by token and when asking for a signed URL.
    assert_eq!(
        status_and_code(get(&url, Some(&d.token), None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );
    assert_eq!(
        dave.media_url(&id, false).await.unwrap_err().code(),
        Some(ErrorCode::Forbidden)
    );
    // Dave cannot send it either: he did not upload it.
    assert_eq!(
        dave.send_media(Target::User(user_id(&alice).await), up.content.clone())
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::Forbidden)
    );

    // Signed URLs work without a token; a tampered one does not.
    let carol_url = carol.media_url(&id, false).await.unwrap();
    let signed = format!("{}{}", server.base_url, carol_url.url);
    assert_eq!(get(&signed, None, None).await.status().as_u16(), 200);
    let tampered = signed.replace(
        &format!("u={}", user_id(&carol).await),
        &format!("u={}", user_id(&dave).await),
    );
    assert_eq!(
        status_and_code(get(&tampered, None, None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );
    let mangled = format!("{url}?u=carol&exp=soon&sig=zz");
    assert_eq!(
        status_and_code(get(&mangled, None, None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );

    // Ranges return exactly the bytes asked for; caching headers name the hash.
    let res = get(&url, Some(&b.token), Some("bytes=100-1123")).await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 100-1123/10000");
    assert_eq!(res.headers()["content-length"], "1024");
    assert_eq!(res.headers()["etag"], format!("\"{id}\"").as_str());
    assert!(res.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(res.headers()["accept-ranges"], "bytes");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[100..1124]);
    let res = get(&url, Some(&b.token), Some("bytes=-10")).await;
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[9990..]);
    let res = get(&url, Some(&b.token), Some("bytes=10000-")).await;
    assert_eq!(res.status().as_u16(), 416);
    assert_eq!(res.headers()["content-range"], "bytes */10000");
    let res = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&b.token)
        .header("if-none-match", format!("\"{id}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 304);

    // Carol is kicked: her token and her still-unexpired signed URL stop working.
    call(
        &alice,
        Request::GroupKick(GroupUser {
            conversation_id: group,
            user_id: user_id(&carol).await,
        }),
    )
    .await
    .unwrap();
    assert_eq!(
        status_and_code(get(&url, Some(&c.token), None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );
    assert_eq!(
        status_and_code(get(&signed, None, None).await).await,
        (403, Some(ErrorCode::Forbidden))
    );
    assert_eq!(get(&url, Some(&b.token), None).await.status().as_u16(), 200);

    // Ids are hex hashes and nothing else: no way out of the blob store.
    for bad in [
        "..%2F..%2Fconfab.db",
        "media.key",
        &id.to_uppercase(),
        &format!("{id}0"),
    ] {
        let res = get(
            &format!("{}/api/v1/media/{bad}", server.base_url),
            Some(&a.token),
            None,
        )
        .await;
        assert_eq!(res.status().as_u16(), 404, "{bad}");
    }
}

#[tokio::test]
async fn expired_signed_urls_are_refused() {
    // URLs that expire the moment they are made.
    let server = TestServer::open_with(|c| c.media_url_ttl_secs = 0).await;
    let (alice, _) = server.client("alice").await;
    let up = alice.upload_bytes(png(32, 32), None, None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for path in [Some(up.url.clone()), up.thumbnail_url.clone()] {
        let url = format!("{}{}", server.base_url, path.unwrap());
        assert_eq!(
            status_and_code(get(&url, None, None).await).await,
            (403, Some(ErrorCode::UrlExpired))
        );
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let server = TestServer::open_with(|c| {
        c.max_image_bytes = 64 * 1024;
        c.max_file_bytes = 256 * 1024;
    })
    .await;
    let (_alice, a) = server.client("alice").await;
    let t = a.token.as_str();

    // Too large for its kind, announced by Content-Length and found while streaming.
    let (status, answer) = post_media(&server, t, "", None, pdf_like(300 * 1024)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (413, ErrorCode::MediaTooLarge)
    );
    let mut big_png = png(16, 16);
    big_png.resize(100 * 1024, 0); // a PNG with trailing junk, over the 64 KiB image limit
    let (status, answer) = post_media(&server, t, "", None, big_png.clone()).await;
    assert_eq!(
        (status, error_code(&answer)),
        (413, ErrorCode::MediaTooLarge)
    );
    let chunked = reqwest::Body::wrap_stream(futures_util::stream::iter(
        big_png
            .chunks(4096)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    ));
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/media", server.base_url))
        .bearer_auth(t)
        .body(chunked)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);

    // Lying about the type: a "PNG" that is a PDF, a "voice note" that is a picture.
    let (status, answer) = post_media(&server, t, "", Some("image/png"), pdf_like(2000)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (415, ErrorCode::MediaTypeMismatch)
    );
    let (status, answer) = post_media(&server, t, "?kind=image", None, pdf_like(2000)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (415, ErrorCode::MediaTypeMismatch)
    );
    let (status, answer) = post_media(&server, t, "?kind=voice", None, png(8, 8)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (415, ErrorCode::MediaTypeMismatch)
    );
    let (status, answer) = post_media(&server, t, "?kind=sticker", None, png(8, 8)).await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, ErrorCode::InvalidArgument)
    );

    // A decompression bomb: a few hundred bytes claiming 100000×100000 pixels.
    let bomb = png_bomb(100_000);
    assert!(bomb.len() < 200);
    let (status, answer) = post_media(&server, t, "", None, bomb).await;
    assert_eq!(
        (status, error_code(&answer)),
        (413, ErrorCode::ImageTooLarge)
    );
    // A PNG signature followed by garbage.
    let mut corrupt = png(64, 64);
    corrupt.truncate(60);
    corrupt.extend_from_slice(&[0x55; 500]);
    let (status, answer) = post_media(&server, t, "", None, corrupt).await;
    assert_eq!(
        (status, error_code(&answer)),
        (400, ErrorCode::InvalidMedia)
    );

    // Truncated: Content-Length says 100,000 bytes, 50,000 arrive, then the client stops
    // sending (and, the second time, hangs up).
    for hang_up in [false, true] {
        let answer = truncated_upload(&server, t, 100_000, 50_000, hang_up).await;
        if let Some((status, body)) = answer {
            assert_eq!(
                (status, error_code(&body)),
                (400, ErrorCode::IncompleteUpload)
            );
        } else {
            assert!(hang_up, "a half-closed upload still gets its answer");
        }
    }

    // No partial blob, no leftover temp file.
    let deadline = tokio::time::Instant::now() + WAIT;
    while !(blob_files(&server).is_empty() && tmp_files(&server).is_empty()) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "left behind: {:?} {:?}",
            blob_files(&server),
            tmp_files(&server)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Nothing refused was recorded either: the server still works for a good upload.
    let (status, _) = post_media(&server, t, "?kind=image", Some("image/png"), png(8, 8)).await;
    assert_eq!(status, 201);
}

/// Sends `sent` of `announced` bytes over a raw socket; returns the answer if one came.
async fn truncated_upload(
    server: &TestServer,
    token: &str,
    announced: usize,
    sent: usize,
    hang_up: bool,
) -> Option<(u16, serde_json::Value)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.base_url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\nContent-Length: {announced}\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&pdf_like(sent)).await.unwrap();
    if hang_up {
        drop(s);
        return None;
    }
    s.shutdown().await.unwrap();
    let mut raw = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut raw)).await;
    let text = String::from_utf8_lossy(&raw);
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split("\r\n\r\n").nth(1)?;
    Some((status, serde_json::from_str(body).ok()?))
}

#[tokio::test]
async fn the_same_bytes_are_stored_once_and_recall_frees_them() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;

    let bytes = png(200, 100);
    let first = alice.upload_bytes(bytes.clone(), None, None).await.unwrap();
    let again = alice.upload_bytes(bytes.clone(), None, None).await.unwrap();
    let by_bob = bob.upload_bytes(bytes.clone(), None, None).await.unwrap();
    assert!(!first.duplicate && again.duplicate && by_bob.duplicate);
    assert_eq!(first.content, again.content);
    assert_eq!(first.content, by_bob.content);
    // One blob and one thumbnail on disk.
    assert_eq!(blob_files(&server).len(), 2, "{:?}", blob_files(&server));

    // Both send it; recalling one message keeps the blob for the other.
    let bob_id = user_id(&bob).await;
    let a1 = alice
        .send_media(Target::User(bob_id), first.content.clone())
        .await
        .unwrap();
    let b1 = bob
        .send_media(Target::User(user_id(&alice).await), by_bob.content.clone())
        .await
        .unwrap();
    alice.recall(a1.conversation_id, a1.seq).await.unwrap();
    assert_eq!(blob_files(&server).len(), 2);
    bob.media_url(&media_id(&first), false).await.unwrap();
    // The last reference goes: so does the blob, and its record.
    bob.recall(b1.conversation_id, b1.seq).await.unwrap();
    assert!(blob_files(&server).is_empty(), "{:?}", blob_files(&server));
    assert_eq!(
        alice
            .media_url(&media_id(&first), false)
            .await
            .unwrap_err()
            .code(),
        Some(ErrorCode::Forbidden)
    );
}

#[tokio::test]
async fn media_content_is_checked_at_send() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let (bob, _) = server.client("bob").await;
    let to = Target::User(user_id(&bob).await);
    let up = alice.upload_bytes(png(10, 10), None, None).await.unwrap();

    // Unknown blob.
    let mut unknown = up.content.clone();
    if let Content::Image { media, .. } = &mut unknown {
        media.id = "0".repeat(64);
    }
    assert_eq!(
        alice.send_media(to, unknown).await.unwrap_err().code(),
        Some(ErrorCode::NotFound)
    );
    // Not a hash.
    let mut bad = up.content.clone();
    if let Content::Image { media, .. } = &mut bad {
        media.id = "../x".into();
    }
    assert_eq!(
        alice.send_media(to, bad).await.unwrap_err().code(),
        Some(ErrorCode::InvalidArgument)
    );
    // An image sent as a "file".
    let as_file = Content::File {
        media: up.content.media().unwrap().clone(),
        name: "x.png".into(),
    };
    assert_eq!(
        alice.send_media(to, as_file).await.unwrap_err().code(),
        Some(ErrorCode::MediaTypeMismatch)
    );
    // Lies about the metadata are replaced by what the server measured.
    let mut lying = up.content.clone();
    if let Content::Image { width, .. } = &mut lying {
        *width = 9999;
    }
    alice.send_media(to, lying).await.unwrap();
    let m = bob.next_message(WAIT).await.unwrap();
    assert_eq!(m.content, up.content);
}

/// 500 MB streamed from a generator (never held in memory by the client) into the real server
/// binary, sampling its resident memory. Slow in a debug build, so not in the default run:
/// `cargo build -p confab-server && cargo test -p confab-tests --test media -- --ignored
/// --nocapture upload_500_mb`. The figures go in docs/benchmarks.md ("Media upload").
#[tokio::test]
#[ignore]
async fn upload_500_mb_with_flat_server_memory() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    const TOTAL: u64 = 500 * 1000 * 1000;
    const CHUNK: usize = 1024 * 1024;
    let dir = tempfile::tempdir().unwrap();
    let port = confab_tests::free_port();
    let process = confab_tests::ServerProcess::start(dir.path(), port).await;
    let pid = process.child.id();
    let base = process.base_url.clone();
    confab_tests::register(&base, "alice").await;
    let login = confab_tests::login(&base, "alice", "bench").await;

    let rss_kib = move || -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    let before = rss_kib();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    // A thread of its own, so that sampling does not wait for the busy client.
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            let mut samples = 0u32;
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                samples += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            samples
        })
    };

    // xorshift bytes, one 1 MiB chunk at a time.
    let body = futures_util::stream::unfold(
        (0u64, 0x9E37_79B9_7F4A_7C15u64),
        |(sent, mut x)| async move {
            if sent >= TOTAL {
                return None;
            }
            let n = CHUNK.min((TOTAL - sent) as usize);
            let mut chunk = vec![0u8; n];
            for b in chunk.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
            }
            Some((Ok::<_, std::io::Error>(chunk), (sent + n as u64, x)))
        },
    );
    let started = std::time::Instant::now();
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/media?kind=file&name=big.bin"))
        .bearer_auth(&login.token)
        .header("content-length", TOTAL)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    let status = res.status().as_u16();
    let answer: UploadResponse = res.json().await.unwrap();
    done.store(true, Ordering::Relaxed);
    let samples = sampler.join().unwrap();
    let after = rss_kib();
    assert_eq!(status, 201);
    assert_eq!(answer.content.media().unwrap().size, TOTAL);
    let peak = peak.load(Ordering::Relaxed);
    println!(
        "500 MB upload: {:.1} s ({:.0} MB/s); server RSS before {} MiB, peak {} MiB, after {} MiB ({} samples)",
        elapsed.as_secs_f64(),
        TOTAL as f64 / 1e6 / elapsed.as_secs_f64(),
        before / 1024,
        peak / 1024,
        after / 1024,
        samples
    );
    // Flat: the peak grows by far less than the upload (here: under 64 MiB).
    assert!(
        peak < before + 64 * 1024,
        "peak {peak} KiB from {before} KiB"
    );
    let stored = files_under(&dir.path().join("blobs"));
    assert_eq!(stored.len(), 1);
    assert_eq!(std::fs::metadata(&stored[0]).unwrap().len(), TOTAL);
    drop(process);
}

/// Encodes with ffmpeg, or says why not.
fn ffmpeg(args: &[&str], out: &Path) -> Result<(), String> {
    match std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(out)
        .status()
    {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("ffmpeg failed ({s})")),
        Err(e) => Err(format!("ffmpeg is not on the PATH ({e})")),
    }
}

/// Recordings in the containers phones and browsers produce, where ffmpeg can make them:
/// WebM/Opus, MP4/AAC (M4A) and MP3, each 1.5 s long.
#[tokio::test]
async fn encoded_recordings_have_their_duration() {
    let server = TestServer::open().await;
    let (alice, _) = server.client("alice").await;
    let tone = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.5"];
    for (file, codec) in [
        ("voice.webm", "libopus"),
        ("voice.m4a", "aac"),
        ("voice.mp3", "libmp3lame"),
    ] {
        let out = server.dir.path().join(file);
        let mut args = tone.to_vec();
        args.extend(["-c:a", codec]);
        if let Err(why) = ffmpeg(&args, &out) {
            println!("skipping {file}: {why}");
            continue;
        }
        let up = alice
            .upload_file(&out, Some(MediaKind::Voice))
            .await
            .unwrap();
        assert_eq!(up.kind, MediaKind::Voice, "{file}");
        match &up.content {
            Content::Voice { duration_ms, media } => {
                let d = duration_ms.unwrap_or_else(|| panic!("{file}: no duration"));
                println!("{file} ({}): {d} ms", media.mime);
                // Encoders pad and trim by a frame or two.
                assert!(
                    (1400..=1600).contains(&d),
                    "{file} ({}): {d} ms",
                    media.mime
                );
            }
            other => panic!("{file}: not voice: {other:?}"),
        }
    }
}

/// A client that stops sending but keeps the connection open is cut off after the idle
/// timeout, and its partial upload is removed.
#[tokio::test]
async fn a_stalled_upload_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let server = TestServer::open_with(|c| c.idle_timeout_secs = 1).await;
    let login = server.user("alice").await;
    let addr = server.base_url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/v1/media HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Length: 100000\r\n\r\n",
        login.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&pdf_like(20_000)).await.unwrap();
    // Keep the connection open, send nothing more, and wait for the answer.
    let mut raw = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, s.read(&mut raw))
        .await
        .expect("an answer before the test's timeout")
        .unwrap();
    let text = String::from_utf8_lossy(&raw[..n]);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert!(text.contains("incomplete_upload"), "{text}");
    assert!(tmp_files(&server).is_empty());
    assert!(blob_files(&server).is_empty());
}
