#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pipelines::h264_guard::fuzz(data));
