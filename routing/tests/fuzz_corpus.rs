//! Replays the fuzz seed corpus (`fuzz/corpus-seed/alias`) through the fuzz body on stable Rust.

use std::path::Path;

#[test]
fn alias_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/alias");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        routing::fuzzing::alias(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 20, "seed corpus has {count} files");
}
