//! Replays the seed corpus of the `h264_guard` fuzz target (`fuzz/corpus-seed/h264_guard`)
//! through its fuzz body on stable Rust, and checks the seeds say what their names say.

use std::path::Path;

use pipelines::h264_guard::{H264Refusal, check_h264_rtp, fuzz};

fn seeds() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus-seed/h264_guard");
    let mut seeds: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn the_corpus_replays_cleanly_and_each_seed_is_what_it_is_named() {
    let seeds = seeds();
    assert!(seeds.len() >= 9, "{} seeds", seeds.len());
    for (name, data) in &seeds {
        fuzz(data);
        let verdict = check_h264_rtp(data);
        let expected = match name.as_str() {
            "stap-b.bin" => Err(H264Refusal::Interleaved(25)),
            "fu-b.bin" => Err(H264Refusal::Interleaved(29)),
            "stap-a-overrun.bin" => Err(H264Refusal::BadAggregate),
            "payload-only.bin" => Err(H264Refusal::NotRtp),
            _ => Ok(()),
        };
        assert_eq!(verdict, expected, "{name}");
    }
}
