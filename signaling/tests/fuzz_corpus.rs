//! Replays the fuzz seed corpora (`fuzz/corpus-seed/sip`, `dialog`, `sdp`) through every fuzz
//! body that reads them on stable Rust, so each CI run exercises them without cargo-fuzz.

use std::path::Path;

#[test]
fn sip_corpus_replays_through_every_body() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/sip");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        signaling::fuzzing::message(&data);
        signaling::fuzzing::framer(&data);
        signaling::fuzzing::transactions(&data);
        signaling::fuzzing::dialogs(&data);
        signaling::dtmf::fuzzing::rtp(&data);
        signaling::digest::fuzzing::header(&data);
        count += 1;
    }
    assert!(count >= 7, "seed corpus has {count} files");
}

#[test]
fn sdp_corpus_replays_cleanly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/sdp");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        signaling::sdp::fuzzing::sdp(&std::fs::read(entry.unwrap().path()).unwrap());
        count += 1;
    }
    assert!(count >= 8, "seed corpus has {count} files");
}

#[test]
fn dialog_corpus_replays_through_every_sip_body() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/dialog");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        signaling::fuzzing::dialogs(&data);
        signaling::fuzzing::transactions(&data);
        signaling::fuzzing::message(&data);
        count += 1;
    }
    assert!(count >= 4, "seed corpus has {count} files");
}
