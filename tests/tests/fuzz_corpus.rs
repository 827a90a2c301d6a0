//! Replays the fuzz corpus and every found crash (`fuzz/corpus/<target>`,
//! `fuzz/regressions/<target>`) through the fuzz targets' entry points on the stable
//! toolchain, then runs a short deterministic mutation pass, so the default test command
//! covers what `cargo fuzz` found without needing it.

use std::path::{Path, PathBuf};

use confab_server::fuzz_support::{frame, media, Dispatcher};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut out = vec![];
    for dir in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries.flatten() {
            if e.path().is_file() {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// xorshift64*: deterministic, so a failure here reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const INTERESTING: &[&[u8]] = &[
    b"-1",
    b"0",
    b"9223372036854775807",
    b"18446744073709551616",
    b"null",
    b"\"\"",
    b"[]",
    b"{}",
    b"1e309",
    b"\"\\u0000\"",
    b"true",
    b"\"\xf0\x9f\x92\xa9\"",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        match rng.below(5) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            2 => {
                let i = rng.below(v.len() + 1);
                let token = INTERESTING[rng.below(INTERESTING.len())];
                v.splice(i..i, token.iter().copied());
            }
            3 => {
                // Replace a number with an interesting value.
                if let Some(start) = v.iter().position(|b| b.is_ascii_digit()) {
                    let end = v[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(v.len(), |n| start + n);
                    let token = INTERESTING[rng.below(INTERESTING.len())];
                    v.splice(start..end, token.iter().copied());
                }
            }
            _ => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(v.len() + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
        }
    }
    v
}

#[test]
fn frame_corpus_and_mutations() {
    let corpus = inputs("frame");
    assert!(corpus.len() >= 20, "the frame corpus is present");
    for (path, data) in &corpus {
        let r = std::panic::catch_unwind(|| frame(data));
        assert!(r.is_ok(), "{} crashes the frame decoder", path.display());
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, d)| d).collect();
    let mut rng = Rng(0x00C0_FFEE);
    for _ in 0..20_000 {
        let input = mutate(&mut rng, &seeds);
        if std::panic::catch_unwind(|| frame(&input)).is_err() {
            panic!("crash on {:?}", String::from_utf8_lossy(&input));
        }
    }
}

#[test]
fn dispatch_corpus_and_mutations() {
    let corpus = inputs("dispatch");
    assert!(!corpus.is_empty(), "the dispatch corpus is present");
    let d = Dispatcher::new();
    for (path, data) in &corpus {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.run(data)));
        assert!(r.is_ok(), "{} crashes the request path", path.display());
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, d)| d).collect();
    let mut rng = Rng(0xBAD_5EED);
    for _ in 0..1_500 {
        let input = mutate(&mut rng, &seeds);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| d.run(&input)));
        assert!(r.is_ok(), "crash on {:?}", String::from_utf8_lossy(&input));
    }
}

#[test]
fn media_corpus_and_mutations() {
    let corpus = inputs("media");
    assert!(corpus.len() >= 15, "the media corpus is present");
    for (path, data) in &corpus {
        let r = std::panic::catch_unwind(|| media(data));
        assert!(r.is_ok(), "{} crashes a media probe", path.display());
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, d)| d).collect();
    let mut rng = Rng(0x0005_EED5);
    for _ in 0..3_000 {
        let input = mutate(&mut rng, &seeds);
        if std::panic::catch_unwind(|| media(&input)).is_err() {
            panic!("crash on {:?}", String::from_utf8_lossy(&input));
        }
    }
}
