//! Spoken prompts and the message slate of a Virtual Reception, through the real downlink:
//! PCM pushed with `Downlink::play_prompt` leaves in every audio codec a room system may take
//! (PCMU, PCMA, G.722, Opus), decoded back by GStreamer at the prompt's frequency, falls silent
//! when the prompt ends, and a new prompt replaces the one playing; `show_message` puts the
//! text slate on the H.264 composite (compared with the kernels' own rendering of that slate).

mod downlink_media;

use std::sync::Arc;

use downlink_media::{Collector, serial, wait_until};
use kernels::frame::I420Frame;
use kernels::layout::Rect;
use kernels::slate::{Slate, slate_picture};
use pipelines::downlink::{AudioCodecOut, AudioOut, Downlink, DownlinkSpec};
use pipelines::peers::{AudioProbe, PROBE_RATE, dominant_frequency};

/// `seconds` of a sine at `freq` Hz, mono 16-bit at `rate`, at half of full scale.
fn sine(freq: f64, rate: u32, seconds: f64) -> Vec<i16> {
    let n = (f64::from(rate) * seconds) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            (16_000.0 * (2.0 * std::f64::consts::PI * freq * t).sin()) as i16
        })
        .collect()
}

/// RMS of `samples`.
fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// Feeds what the downlink sent to `probe` since `*fed`.
fn feed(collector: &Collector, probe: &AudioProbe, fed: &mut usize) {
    let audio = collector.got.audio.lock().unwrap();
    for packet in &audio[*fed..] {
        probe.push(packet);
    }
    *fed = audio.len();
}

/// Plays a 600 Hz prompt (at 16 kHz), then a 900 Hz one (at 8 kHz) in `codec`: each is heard
/// at its frequency, and the output is silent between and after them.
fn prompts_in(codec: AudioCodecOut, pt: u8) {
    let _serial = serial();
    let mut spec = DownlinkSpec::default();
    spec.video.width = 320;
    spec.video.height = 180;
    spec.video.bitrate_kbps = 200;
    spec.audio = AudioOut {
        codec,
        payload_type: pt,
        ..AudioOut::default()
    };
    let (dl, events) = Downlink::start(spec).unwrap();
    let dl = Arc::new(dl);
    let collector = Collector::start(events, 96);
    let probe = match codec {
        AudioCodecOut::Pcmu => AudioProbe::g711(false, pt),
        AudioCodecOut::Pcma => AudioProbe::g711(true, pt),
        AudioCodecOut::G722 => AudioProbe::g722(pt),
        AudioCodecOut::Opus => AudioProbe::opus(pt),
    }
    .unwrap();
    let mut fed = 0;
    // Silence before any prompt.
    wait_until("a second of output", 30, || {
        feed(&collector, &probe, &mut fed);
        probe.samples().len() >= PROBE_RATE as usize
    });
    let before = rms(&probe.samples());
    assert!(
        before < 100.0,
        "{codec:?}: not silent before the prompt: {before}"
    );

    for (freq, rate, seconds) in [(600.0, 16_000, 2.0), (900.0, 8_000, 1.5)] {
        dl.play_prompt(&sine(freq, rate, seconds), rate).unwrap();
        let mut heard = (0.0, 0.0, 0.0);
        wait_until(&format!("{codec:?}: the {freq} Hz prompt"), 30, || {
            feed(&collector, &probe, &mut fed);
            let samples = probe.samples();
            let (f, share) = dominant_frequency(&samples, PROBE_RATE);
            heard = (f, share, rms(&samples));
            samples.len() >= PROBE_RATE as usize
                && (f - freq).abs() <= 20.0
                && share > 0.5
                && heard.2 > 3_000.0
        });
        println!(
            "{codec:?}: prompt at {rate} Hz heard at {:.0} Hz ({:.0} % of the band), RMS {:.0}",
            heard.0,
            heard.1 * 100.0,
            heard.2
        );
        // The prompt ends: the mix is silent again.
        wait_until(&format!("{codec:?}: silence after {freq} Hz"), 30, || {
            feed(&collector, &probe, &mut fed);
            rms(&probe.samples()) < 100.0
        });
    }
    dl.stop();
}

#[test]
fn prompts_in_pcmu() {
    prompts_in(AudioCodecOut::Pcmu, 0);
}

#[test]
fn prompts_in_pcma() {
    prompts_in(AudioCodecOut::Pcma, 8);
}

#[test]
fn prompts_in_g722() {
    prompts_in(AudioCodecOut::G722, 9);
}

#[test]
fn prompts_in_opus() {
    prompts_in(AudioCodecOut::Opus, 111);
}

/// A new prompt cuts the one playing: a long 600 Hz prompt replaced after a second by 900 Hz
/// is not heard again.
#[test]
fn a_new_prompt_replaces_the_one_playing() {
    let _serial = serial();
    let mut spec = DownlinkSpec::default();
    spec.video.width = 320;
    spec.video.height = 180;
    let (dl, events) = Downlink::start(spec).unwrap();
    let collector = Collector::start(events, 96);
    let probe = AudioProbe::g711(false, 0).unwrap();
    let mut fed = 0;
    dl.play_prompt(&sine(600.0, 8_000, 20.0), 8_000).unwrap();
    wait_until("600 Hz", 30, || {
        feed(&collector, &probe, &mut fed);
        let (f, share) = dominant_frequency(&probe.samples(), PROBE_RATE);
        (f - 600.0).abs() <= 20.0 && share > 0.5
    });
    dl.play_prompt(&sine(900.0, 8_000, 1.0), 8_000).unwrap();
    wait_until("900 Hz alone", 30, || {
        feed(&collector, &probe, &mut fed);
        let (f, share) = dominant_frequency(&probe.samples(), PROBE_RATE);
        (f - 900.0).abs() <= 20.0 && share > 0.8
    });
    // After the short prompt, silence: the 20 s one does not come back.
    wait_until("silence", 30, || {
        feed(&collector, &probe, &mut fed);
        rms(&probe.samples()) < 100.0
    });
    dl.stop();
}

/// Mean absolute luma difference of two pictures of one size.
fn luma_diff(a: &I420Frame, b: &I420Frame) -> f64 {
    let (w, h) = (a.width(), a.height());
    let mut sum = 0u64;
    for y in 0..h {
        for x in 0..w {
            sum += u64::from(a.pixel(x, y).y.abs_diff(b.pixel(x, y).y));
        }
    }
    sum as f64 / f64::from(w * h)
}

/// The message slate replaces the waiting slate on the composite: the decoded picture is
/// close to the kernels' rendering of the message, and further from the waiting slate.
#[test]
fn the_message_slate_is_shown() {
    let _serial = serial();
    let spec = DownlinkSpec::default();
    let (w, h) = (spec.video.width, spec.video.height);
    let (dl, events) = Downlink::start(spec).unwrap();
    let collector = Collector::start(events, 96);
    let area = Rect::new(0, 0, w, h);
    let message = Slate {
        background: kernels::canvas::DEFAULT_BACKGROUND,
        text: "Enter the meeting ID followed by #".to_owned(),
    };
    let expected = slate_picture(area, &message).unwrap();
    let waiting = slate_picture(area, &Slate::waiting()).unwrap();
    assert!(
        luma_diff(&expected, &waiting) > 1.0,
        "the two slates differ"
    );
    dl.show_message(&message.text).unwrap();
    let mut diffs = (f64::MAX, 0.0);
    wait_until("the message slate decoded", 30, || {
        let Some(frame) = collector.frame() else {
            return false;
        };
        if (frame.width(), frame.height()) != (w, h) {
            return false;
        }
        diffs = (luma_diff(&frame, &expected), luma_diff(&frame, &waiting));
        diffs.0 < 2.0 && diffs.1 > diffs.0 * 2.0
    });
    println!(
        "message slate: mean luma difference {:.2} to the message, {:.2} to the waiting slate",
        diffs.0, diffs.1
    );
    // An empty assignment brings the waiting slate back.
    dl.assign_sources(&[]).unwrap();
    wait_until("the waiting slate again", 30, || {
        collector
            .frame()
            .is_some_and(|f| luma_diff(&f, &waiting) < 2.0)
    });
    dl.stop();
}

/// A prompt played the moment the downlink starts (as a reception does) is heard in full.
#[test]
fn a_prompt_played_at_start_is_heard() {
    let _serial = serial();
    for round in 0..5 {
        let mut spec = DownlinkSpec::default();
        spec.video.width = 320;
        spec.video.height = 180;
        let (dl, events) = Downlink::start(spec).unwrap();
        dl.play_prompt(&sine(700.0, 8_000, 2.0), 8_000).unwrap();
        let collector = Collector::start(events, 96);
        let probe = AudioProbe::g711(false, 0).unwrap();
        let mut fed = 0;
        let mut level = 0.0;
        wait_until(&format!("round {round}: 700 Hz at start"), 10, || {
            feed(&collector, &probe, &mut fed);
            let samples = probe.samples();
            let (f, share) = dominant_frequency(&samples, PROBE_RATE);
            level = rms(&samples);
            (f - 700.0).abs() <= 20.0 && share > 0.5 && level > 3_000.0
        });
        println!("round {round}: heard at RMS {level:.0}");
        dl.stop();
    }
}
