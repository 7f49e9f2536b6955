//! The Virtual Reception's spoken prompts, shipped with the node: `node/assets/prompts/*.wav`,
//! spoken by espeak-ng and made 8 kHz mono 16-bit PCM by `make-prompts.sh` there, embedded at
//! build time and decoded once. The downlink resamples and encodes them into the caller's codec
//! ([`pipelines::downlink::Downlink::play_prompt`]).

use std::sync::OnceLock;

/// One decoded prompt: mono 16-bit samples at `rate` Hz.
#[derive(Debug)]
pub(crate) struct Prompt {
    pub(crate) samples: Vec<i16>,
    pub(crate) rate: u32,
}

/// The prompts by name (the names `routing::reception` plays) and their WAV files.
const FILES: [(&str, &[u8]); 3] = [
    (
        "enter_meeting_id",
        include_bytes!("../../assets/prompts/enter_meeting_id.wav") as &[u8],
    ),
    (
        routing::reception::PROMPT_INVALID_MEETING_ID,
        include_bytes!("../../assets/prompts/invalid_meeting_id.wav") as &[u8],
    ),
    (
        routing::reception::PROMPT_NO_INPUT,
        include_bytes!("../../assets/prompts/no_input.wav") as &[u8],
    ),
];

/// The names of the prompts the node ships.
pub(crate) fn names() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(name, _)| *name)
}

/// The prompt called `name`, or `None` when the node has none by that name.
pub(crate) fn get(name: &str) -> Option<&'static Prompt> {
    static DECODED: OnceLock<Vec<(&'static str, Prompt)>> = OnceLock::new();
    DECODED
        .get_or_init(|| {
            FILES
                .iter()
                .map(|(name, wav)| {
                    let prompt = parse_wav(wav)
                        .unwrap_or_else(|e| panic!("shipped prompt {name}.wav is broken: {e}"));
                    (*name, prompt)
                })
                .collect()
        })
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, prompt)| prompt)
}

/// Reads a RIFF/WAVE file of mono 16-bit PCM: walks the chunks for `fmt ` and `data`.
fn parse_wav(bytes: &[u8]) -> Result<Prompt, String> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".to_owned());
    }
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    let mut rest = &bytes[12..];
    let mut rate = None;
    while rest.len() >= 8 {
        let id = &rest[0..4];
        let len = usize::try_from(u32_at(rest, 4)).map_err(|e| e.to_string())?;
        let body = rest
            .get(8..8 + len)
            .ok_or_else(|| format!("chunk {:?} runs past the end", String::from_utf8_lossy(id)))?;
        match id {
            b"fmt " if body.len() >= 16 => {
                let (format, channels, bits) = (u16_at(body, 0), u16_at(body, 2), u16_at(body, 14));
                if (format, channels, bits) != (1, 1, 16) {
                    return Err(format!(
                        "format {format}, {channels} channels, {bits} bits: mono 16-bit PCM only"
                    ));
                }
                rate = Some(u32_at(body, 4));
            }
            b"data" => {
                let rate = rate.ok_or("data before fmt")?;
                let samples = body
                    .chunks_exact(2)
                    .map(|s| i16::from_le_bytes([s[0], s[1]]))
                    .collect();
                return Ok(Prompt { samples, rate });
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        rest = rest.get(8 + len + (len & 1)..).unwrap_or_default();
    }
    Err("no data chunk".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_prompt_is_seconds_of_speech() {
        for name in names() {
            let prompt = get(name).expect("shipped");
            assert_eq!(prompt.rate, 8_000, "{name}");
            let seconds = prompt.samples.len() as f64 / f64::from(prompt.rate);
            assert!((1.5..8.0).contains(&seconds), "{name}: {seconds} s");
            // Speech, not silence: the RMS level is well above the noise floor.
            let rms = (prompt
                .samples
                .iter()
                .map(|&s| f64::from(s).powi(2))
                .sum::<f64>()
                / prompt.samples.len() as f64)
                .sqrt();
            assert!(rms > 500.0, "{name}: RMS {rms:.0}");
        }
        assert!(get("no_such_prompt").is_none());
    }

    #[test]
    fn broken_files_are_refused() {
        assert!(parse_wav(b"RIFF\0\0\0\0WAVX").is_err());
        let mut stereo = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        stereo.extend_from_slice(&[1, 0, 2, 0, 0x40, 0x1f, 0, 0, 0, 0, 0, 0, 4, 0, 16, 0]);
        assert!(parse_wav(&stereo).unwrap_err().contains("2 channels"));
        let mut mono = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
        mono.extend_from_slice(&[1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0, 0, 0, 0, 2, 0, 16, 0]);
        mono.extend_from_slice(b"data\x04\0\0\0\x01\0\xff\xff");
        let prompt = parse_wav(&mono).unwrap();
        assert_eq!((prompt.rate, prompt.samples), (8_000, vec![1, -1]));
    }
}
