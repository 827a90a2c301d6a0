//! What an upload is and what the UI needs to show it: the kind and MIME type from the first
//! bytes (magic numbers, via `infer`), image dimensions, orientation, thumbnail and placeholder
//! (`image`), audio duration (`symphonia`, and a small Ogg reader for Opus), video duration and
//! dimensions (a small MP4 box reader), and a video poster frame when `ffmpeg` is installed.
//!
//! Everything here is blocking and runs on the blocking pool, reading the upload's temp file.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use confab_proto::{ErrorCode, MediaKind, Thumbnail};
use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use crate::config::Config;
use crate::error::{AppError, AppResult};

/// Bytes of the upload's start that [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 8192;

/// The kind and MIME type the content shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: MediaKind,
    pub mime: String,
}

/// Image formats the server decodes (and so makes thumbnails of).
const IMAGE_MIMES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Decides the kind from the magic bytes alone. Images the server cannot decode, and content
/// nothing recognises, are files.
pub fn sniff(head: &[u8]) -> Sniffed {
    let Some(t) = infer::get(head) else {
        return Sniffed {
            kind: MediaKind::File,
            mime: "application/octet-stream".into(),
        };
    };
    let mime = t.mime_type().to_owned();
    let kind = match t.matcher_type() {
        infer::MatcherType::Image if IMAGE_MIMES.contains(&t.mime_type()) => MediaKind::Image,
        infer::MatcherType::Audio => MediaKind::Voice,
        infer::MatcherType::Video => MediaKind::Video,
        _ => MediaKind::File,
    };
    Sniffed { kind, mime }
}

/// The kind an upload is stored as, given what the client declared (`kind=` or
/// `Content-Type`) and what the content is. A declaration the content contradicts is refused.
pub fn reconcile(declared: Option<MediaKind>, sniffed: &Sniffed) -> AppResult<MediaKind> {
    let mismatch = |what: &str| {
        AppError::new(
            ErrorCode::MediaTypeMismatch,
            format!(
                "the upload was declared {what}, but its content is {}",
                sniffed.mime
            ),
        )
    };
    match (declared, sniffed.kind) {
        (None, kind) => Ok(kind),
        (Some(MediaKind::File), _) => Ok(MediaKind::File),
        (Some(d), k) if d == k => Ok(d),
        // Audio-only recordings often come in containers named for video (WebM, MP4).
        (Some(MediaKind::Voice), MediaKind::Video)
            if matches!(sniffed.mime.as_str(), "video/webm" | "video/mp4") =>
        {
            Ok(MediaKind::Voice)
        }
        (Some(MediaKind::Image), _) => Err(mismatch("an image")),
        (Some(MediaKind::Voice), _) => Err(mismatch("a voice recording")),
        (Some(MediaKind::Video), _) => Err(mismatch("a video")),
    }
}

/// The kind a `Content-Type` header claims, if any.
pub fn kind_of_content_type(content_type: &str) -> Option<MediaKind> {
    let major = content_type.split('/').next()?.trim().to_ascii_lowercase();
    match major.as_str() {
        "image" => Some(MediaKind::Image),
        "audio" => Some(MediaKind::Voice),
        "video" => Some(MediaKind::Video),
        _ => None,
    }
}

/// A JPEG thumbnail and what the message says about it.
#[derive(Debug, Clone)]
pub struct Thumb {
    pub jpeg: Vec<u8>,
    pub size: Thumbnail,
    /// `#rrggbb`: the average colour.
    pub placeholder: String,
}

#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub width: u32,
    pub height: u32,
    pub thumb: Thumb,
}

fn invalid(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::new(
        ErrorCode::InvalidMedia,
        format!("{what} could not be read: {e}"),
    )
}

fn too_large(config: &Config) -> AppError {
    AppError::new(
        ErrorCode::ImageTooLarge,
        format!(
            "images may have at most {} pixels and {} on a side",
            config.max_image_pixels, config.max_image_side
        ),
    )
}

/// Reads an image: dimensions are checked from the header before anything is decoded, and the
/// decoder runs under `image::Limits`, so a small file claiming a huge picture is refused
/// without allocating it.
pub fn image(path: &Path, config: &Config) -> AppResult<ImageInfo> {
    let file = File::open(path).map_err(AppError::internal)?;
    let mut reader = ImageReader::new(BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| invalid("the image", e))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(config.max_image_side);
    limits.max_image_height = Some(config.max_image_side);
    limits.max_alloc = Some(config.max_image_pixels.saturating_mul(8));
    reader.limits(limits);
    let map = |e: ImageError| match e {
        ImageError::Limits(_) => too_large(config),
        other => invalid("the image", other),
    };
    let mut decoder = reader.into_decoder().map_err(map)?;
    let (w, h) = decoder.dimensions();
    if w == 0 || h == 0 {
        return Err(invalid("the image", "it has no pixels"));
    }
    if u64::from(w) * u64::from(h) > config.max_image_pixels
        || w > config.max_image_side
        || h > config.max_image_side
    {
        return Err(too_large(config));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(map)?;
    img.apply_orientation(orientation);
    Ok(ImageInfo {
        width: img.width(),
        height: img.height(),
        thumb: thumbnail(&img, config.thumbnail_max_side)?,
    })
}

/// Scales down (never up) to fit `max_side` on the long side, and encodes as JPEG.
pub fn thumbnail(img: &DynamicImage, max_side: u32) -> AppResult<Thumb> {
    let (w, h) = (img.width(), img.height());
    let long = w.max(h);
    let small = if long <= max_side {
        img.clone()
    } else {
        let scale = |side: u32| {
            ((u64::from(side) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long)).max(1)
                as u32
        };
        img.resize_exact(scale(w), scale(h), image::imageops::FilterType::Triangle)
    };
    let rgb = small.to_rgb8();
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 80)
        .encode_image(&rgb)
        .map_err(AppError::internal)?;
    let (mut r, mut g, mut b) = (0u64, 0u64, 0u64);
    for p in rgb.pixels() {
        r += u64::from(p[0]);
        g += u64::from(p[1]);
        b += u64::from(p[2]);
    }
    let n = u64::from(rgb.width()) * u64::from(rgb.height());
    Ok(Thumb {
        jpeg,
        size: Thumbnail {
            width: rgb.width(),
            height: rgb.height(),
        },
        placeholder: format!("#{:02x}{:02x}{:02x}", r / n, g / n, b / n),
    })
}

/// Duration of a recording in milliseconds, when it can be told.
///
/// Ogg/Opus is read directly (last page's granule position minus the pre-skip, RFC 7845), since
/// symphonia has no Opus decoder. Everything else goes through symphonia's demuxers (WAV, MP3,
/// MP4/AAC, WebM/Matroska, Ogg/Vorbis, FLAC): the track's frame count when the container states
/// it, otherwise the end of the last packet — no audio is decoded either way.
///
/// A demuxer that panics on malformed input (fuzzing found one in symphonia's Matroska reader,
/// `fuzz/regressions/media/`) leaves the duration unknown instead of failing the upload.
pub fn audio_duration_ms(path: &Path, mime: &str) -> Option<u64> {
    if let Some(ms) = ogg_opus_duration_ms(path) {
        return Some(ms);
    }
    std::panic::catch_unwind(|| symphonia_duration_ms(path, mime)).unwrap_or_else(|_| {
        tracing::warn!(
            mime,
            "the audio demuxer failed on an upload; duration left unknown"
        );
        None
    })
}

fn symphonia_duration_ms(path: &Path, mime: &str) -> Option<u64> {
    use symphonia::core::formats::FormatOptions;
    use symphonia::core::io::MediaSourceStream;
    use symphonia::core::meta::MetadataOptions;
    use symphonia::core::probe::Hint;

    let file = File::open(path).ok()?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    hint.mime_type(mime);
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .ok()?;
    let mut format = probed.format;
    let track = format.default_track()?.clone();
    let params = &track.codec_params;
    let time_base = params.time_base.or_else(|| {
        params
            .sample_rate
            .map(|sr| symphonia::core::units::TimeBase::new(1, sr))
    })?;
    let frames = match params.n_frames {
        Some(n) => n,
        None => {
            let mut end = 0u64;
            while let Ok(packet) = format.next_packet() {
                if packet.track_id() == track.id {
                    end = end.max(packet.ts() + packet.dur());
                }
            }
            end
        }
    };
    let t = time_base.calc_time(frames);
    Some(t.seconds * 1000 + (t.frac * 1000.0).round() as u64)
}

/// Ogg/Opus duration: `(granule of the last page − pre-skip) / 48 kHz`.
fn ogg_opus_duration_ms(path: &Path) -> Option<u64> {
    let mut f = File::open(path).ok()?;
    let mut head = [0u8; 47];
    f.read_exact(&mut head).ok()?;
    // First page: "OggS", 27-byte header, one segment holding "OpusHead".
    if &head[..4] != b"OggS" || &head[28..36] != b"OpusHead" {
        return None;
    }
    let pre_skip = u64::from(u16::from_le_bytes([head[38], head[39]]));
    let len = f.metadata().ok()?.len();
    let tail_len = len.min(64 * 1024);
    f.seek(SeekFrom::Start(len - tail_len)).ok()?;
    let mut tail = vec![0u8; tail_len as usize];
    f.read_exact(&mut tail).ok()?;
    let at = tail.windows(4).rposition(|w| w == b"OggS")?;
    let granule = tail.get(at + 6..at + 14)?;
    let granule = u64::from_le_bytes(granule.try_into().ok()?);
    // All ones: no packet ends on that page, so the length is not known from it.
    if granule == u64::MAX {
        return None;
    }
    // 48 kHz samples to milliseconds; dividing first cannot overflow on a hostile granule.
    Some(granule.saturating_sub(pre_skip) / 48)
}

/// What an MP4/QuickTime file says about itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VideoInfo {
    pub duration_ms: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Reads `moov` of an MP4/QuickTime file: the duration from `mvhd`, the dimensions from the
/// `tkhd` of the first track whose handler is `vide`. The file is walked box by box; only
/// `moov` (at most 64 MiB) is read into memory.
pub fn mp4_info(path: &Path) -> Option<VideoInfo> {
    let mut f = File::open(path).ok()?;
    let len = f.metadata().ok()?.len();
    let mut pos = 0u64;
    while pos + 8 <= len {
        f.seek(SeekFrom::Start(pos)).ok()?;
        let mut h = [0u8; 16];
        f.read_exact(&mut h[..8]).ok()?;
        let mut size = u64::from(u32::from_be_bytes(h[..4].try_into().ok()?));
        let mut header = 8;
        if size == 1 {
            f.read_exact(&mut h[8..16]).ok()?;
            size = u64::from_be_bytes(h[8..16].try_into().ok()?);
            header = 16;
        } else if size == 0 {
            size = len - pos;
        }
        if size < header {
            return None;
        }
        if &h[4..8] == b"moov" {
            let body = size - header;
            if body > 64 * 1024 * 1024 {
                return None;
            }
            let mut moov = vec![0u8; body as usize];
            f.read_exact(&mut moov).ok()?;
            return Some(parse_moov(&moov));
        }
        // A 64-bit size past the end of the file ends the walk instead of wrapping around.
        pos = pos.checked_add(size)?;
    }
    None
}

/// Child boxes of a box body: `(type, body)`.
fn boxes(mut data: &[u8]) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let size = u32::from_be_bytes(data[..4].try_into().unwrap()) as usize;
        let (size, header) = match size {
            0 => (data.len(), 8),
            1 if data.len() >= 16 => (
                u64::from_be_bytes(data[8..16].try_into().unwrap()) as usize,
                16,
            ),
            s => (s, 8),
        };
        if size < header || size > data.len() {
            break;
        }
        out.push((&data[4..8], &data[header..size]));
        data = &data[size..];
    }
    out
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

fn parse_moov(moov: &[u8]) -> VideoInfo {
    let mut info = VideoInfo::default();
    for (kind, body) in boxes(moov) {
        match kind {
            b"mvhd" => {
                let (timescale, duration) = if body.first() == Some(&1) {
                    (be32(body, 20), be64(body, 24))
                } else {
                    (be32(body, 12), be32(body, 16).map(u64::from))
                };
                if let (Some(ts), Some(d)) = (timescale, duration) {
                    if ts > 0 && d != u64::MAX && d != u64::from(u32::MAX) {
                        info.duration_ms = Some(d.saturating_mul(1000) / u64::from(ts));
                    }
                }
            }
            b"trak" if info.width.is_none() => {
                let children = boxes(body);
                let is_video = children.iter().any(|(k, b)| {
                    *k == b"mdia"
                        && boxes(b)
                            .iter()
                            .any(|(k, b)| *k == b"hdlr" && b.get(8..12) == Some(b"vide"))
                });
                let tkhd = children.iter().find(|(k, _)| *k == b"tkhd");
                if let (true, Some((_, tkhd))) = (is_video, tkhd) {
                    if tkhd.len() >= 8 {
                        let w = be32(tkhd, tkhd.len() - 8).unwrap_or(0) >> 16;
                        let h = be32(tkhd, tkhd.len() - 4).unwrap_or(0) >> 16;
                        if w > 0 && h > 0 {
                            info.width = Some(w);
                            info.height = Some(h);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    info
}

/// Keeps a file name's last component, without control characters, quotes or leading dots,
/// at most 200 characters; `file` if nothing is left.
pub fn sanitize_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .take(200)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    if trimmed.is_empty() {
        "file".to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_and_controls() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_name("C:\\Users\\a\\report.pdf"), "report.pdf");
        assert_eq!(sanitize_name("a\u{0}b\n\"c\".txt"), "abc.txt");
        assert_eq!(sanitize_name("..."), "file");
        assert_eq!(sanitize_name(".hidden"), "hidden");
    }

    #[test]
    fn declarations_must_match_the_content() {
        let png = sniff(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
        assert_eq!(png.kind, MediaKind::Image);
        let pdf = sniff(b"%PDF-1.7\n");
        assert_eq!(pdf.kind, MediaKind::File);
        assert_eq!(
            reconcile(Some(MediaKind::Image), &png).unwrap(),
            MediaKind::Image
        );
        assert_eq!(
            reconcile(Some(MediaKind::Image), &pdf).unwrap_err().code,
            ErrorCode::MediaTypeMismatch
        );
        assert_eq!(
            reconcile(Some(MediaKind::File), &png).unwrap(),
            MediaKind::File
        );
        assert_eq!(reconcile(None, &pdf).unwrap(), MediaKind::File);
        assert_eq!(kind_of_content_type("image/png"), Some(MediaKind::Image));
        assert_eq!(kind_of_content_type("application/pdf"), None);
    }
}
