//! Replays the seed corpora of the RTP/RTCP fuzz targets (`fuzz/corpus-seed/rtp_receive`,
//! `fuzz/corpus-seed/rtcp_compound`) through their fuzz bodies on stable Rust, so every test
//! run exercises them even without cargo-fuzz.

use std::path::Path;

fn replay(dir: &str, body: fn(&[u8]), at_least: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus-seed")
        .join(dir);
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        body(&std::fs::read(&path).unwrap());
        count += 1;
    }
    assert!(count >= at_least, "seed corpus has {count} files");
}

#[test]
fn rtp_receive_corpus_replays_cleanly() {
    replay("rtp_receive", node::rtp::fuzzing::rtp_receive, 6);
}

#[test]
fn rtcp_compound_corpus_replays_cleanly() {
    replay("rtcp_compound", node::rtp::fuzzing::rtcp_compound, 9);
}

/// The RTCP seeds are what their names say: well-formed ones parse to the packets named,
/// broken ones are refused.
#[test]
fn the_seeds_exercise_the_paths_they_name() {
    use node::rtp::{RtcpPacket, parse_compound};
    let seed = |dir: &str, name: &str| {
        std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../fuzz/corpus-seed")
                .join(dir)
                .join(name),
        )
        .unwrap()
    };
    let fir = parse_compound(&seed("rtcp_compound", "fir-two-entries.bin")).unwrap();
    assert!(matches!(&fir[0], RtcpPacket::Fir { entries, .. } if entries.len() == 2));
    assert!(parse_compound(&seed("rtcp_compound", "truncated.bin")).is_err());
    assert!(parse_compound(&seed("rtcp_compound", "length-overrun.bin")).is_err());
    let padded = parse_compound(&seed("rtcp_compound", "padding.bin")).unwrap();
    assert_eq!(padded[1], RtcpPacket::Goodbye(vec![]));
}
