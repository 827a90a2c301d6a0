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

/// Runs every corpus and regression input of `target` through `run`, then `rounds`
/// deterministic mutations of them; any panic fails the test with the input that caused it.
fn replay_and_mutate(
    target: &str,
    min_inputs: usize,
    seed: u64,
    rounds: usize,
    run: &dyn Fn(&[u8]),
) {
    let corpus = inputs(target);
    assert!(
        corpus.len() >= min_inputs,
        "the {target} corpus is present ({} inputs)",
        corpus.len()
    );
    let survives =
        |data: &[u8]| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(data))).is_ok();
    for (path, data) in &corpus {
        assert!(
            survives(data),
            "{} crashes the {target} target",
            path.display()
        );
    }
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, d)| d).collect();
    let mut rng = Rng(seed);
    for _ in 0..rounds {
        let input = mutate(&mut rng, &seeds);
        assert!(
            survives(&input),
            "{target}: crash on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn frame_corpus_and_mutations() {
    replay_and_mutate("frame", 20, 0x00C0_FFEE, 20_000, &frame);
}

#[test]
fn dispatch_corpus_and_mutations() {
    let d = Dispatcher::new();
    replay_and_mutate("dispatch", 1, 0xBAD_5EED, 1_500, &|data| d.run(data));
}

#[test]
fn media_corpus_and_mutations() {
    replay_and_mutate("media", 15, 0x0005_EED5, 3_000, &media);
}
