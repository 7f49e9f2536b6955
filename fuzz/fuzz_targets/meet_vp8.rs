#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| meet_sim::fuzzing::vp8(data));
