//! Replays the data-channel fuzz seed corpus (`fuzz/corpus-seed/meet_channel`) through the fuzz bodies on
//! stable Rust, so every test run exercises them even without cargo-fuzz.

use std::path::Path;

fn replay(dir: &str, body: fn(&[u8]), at_least: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus-seed")
        .join(dir);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        body(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= at_least, "{} has {count} seeds", dir.display());
}

#[test]
fn channel_corpus_replays_cleanly() {
    replay("meet_channel", meet::fuzzing::channel, 12);
}
