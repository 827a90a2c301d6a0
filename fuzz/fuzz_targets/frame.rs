//! Client frame decoding: never panics, round-trips what it accepts, types what it refuses.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| confab_server::fuzz_support::frame(data));
