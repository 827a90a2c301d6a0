//! Media probes (sniffing, image decoding and thumbnails, audio duration, MP4 boxes, file
//! names): never panic or hang, and refuse bad images with a typed error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    // libfuzzer-sys aborts on every panic, even one caught inside the code under test. The
    // probes deliberately catch a third-party demuxer's panics (an unknown duration, not a
    // failed upload), so keep the default hook: a panic that escapes the probes still aborts
    // in libfuzzer-sys's own wrapper and is reported as a crash.
    init: {
        let _ = std::panic::take_hook();
    },
    |data: &[u8]| confab_server::fuzz_support::media(data)
);
