#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| signaling::sdp::fuzzing::sdp(data));
