//! Replays the fuzz seed corpus (`fuzz/corpus-seed/`) through the fuzz bodies on stable Rust,
//! so every CI run exercises them even without cargo-fuzz.

use std::path::Path;

#[test]
fn config_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/config");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        node::fuzzing::config(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= 20, "seed corpus has {count} files");
}

#[test]
fn srtp_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/srtp");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        node::fuzzing::srtp(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= 6, "seed corpus has {count} files");
}
