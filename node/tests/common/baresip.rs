//! baresip (Debian `baresip-core` + `baresip-ffmpeg`) as a headless VTC: it dials one URI,
//! sends H.264 (libx264, from `fakevideo`) and PCMU (a 440 Hz tone from a WAV file this
//! harness writes), and hangs up after
//! a set time. Recipe and gotchas: `shared/docs/test-peers.md` §1.
//!
//! Each run gets its own config folder, SIP port and RTP range, so runs can go in parallel.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// How baresip reaches the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
    Tls,
}

impl Transport {
    /// The `transport=` URI parameter.
    pub fn param(self) -> &'static str {
        match self {
            Self::Udp => "udp",
            Self::Tcp => "tcp",
            Self::Tls => "tls",
        }
    }
}

/// One call to make.
pub struct Call<'a> {
    /// The node's listener for `transport`.
    pub target: SocketAddr,
    pub transport: Transport,
    /// The Request-URI user (the node's test alias).
    pub user: &'a str,
    /// `mediaenc=srtp-mand`: SDES-SRTP (RTP/SAVP), or no call.
    pub srtp: bool,
    /// First of the 100 RTP ports baresip may use; keep it outside the node's media range.
    pub rtp_base: u16,
    /// How long the call lasts before baresip hangs up (`-t`).
    pub seconds: u32,
}

/// The finished run.
pub struct Run {
    pub output: Output,
    pub log: String,
}

impl Run {
    /// Whether baresip logged the call as established.
    pub fn established(&self) -> bool {
        self.log.contains("Call established")
    }
}

/// Fails with an install hint when baresip or its H.264 codec module is missing.
pub fn require() {
    let found = Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "baresip is not installed: run `make deps` (Debian packages baresip-core, baresip-ffmpeg)"
    );
    assert!(
        Path::new("/usr/lib/baresip/modules/avcodec.so").exists(),
        "baresip's H.264 module is missing: run `make deps` (Debian package baresip-ffmpeg)"
    );
}

/// A loopback port free for UDP and TCP, with the next port free for TCP too (baresip binds
/// SIP/TLS on its SIP port + 1).
fn free_sip_port() -> u16 {
    for _ in 0..50 {
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if port == u16::MAX {
            continue;
        }
        let tcp = TcpListener::bind(("127.0.0.1", port));
        let tls = TcpListener::bind(("127.0.0.1", port + 1));
        if tcp.is_ok() && tls.is_ok() {
            return port;
        }
    }
    panic!("no free loopback port pair for baresip");
}

fn config(sip_port: u16, rtp_base: u16, wav: &Path, extra: &str) -> String {
    let modules = "/usr/lib/baresip/modules";
    let mut config = format!(
        "poll_method\tepoll\n\
         net_interface\t127.0.0.1\n\
         sip_listen\t127.0.0.1:{sip_port}\n\
         call_local_timeout\t30\n\
         call_max_calls\t1\n\
         audio_source\taufile,{wav}\n\
         audio_player\talsa,null\n\
         audio_alert\talsa,null\n\
         video_source\tfakevideo,nil\n\
         video_display\tfakevideo,nil\n\
         video_size\t352x288\n\
         video_bitrate\t500000\n\
         video_fps\t25.00\n\
         video_selfview\tnone\n\
         rtp_ports\t{rtp_base}-{}\n\
         rtcp_mux\tno\n\
         module_path\t{modules}\n\
         module\tg711.so\n\
         module\taufile.so\n\
         module\talsa.so\n\
         module\tavcodec.so\n\
         module\tfakevideo.so\n\
         module\tsrtp.so\n\
         module_tmp\taccount.so\n\
         module_app\tmenu.so\n\
         avcodec_h264enc\tlibx264\n\
         avcodec_h264dec\th264\n",
        rtp_base + 99,
        wav = wav.display(),
    );
    config.push_str(extra);
    config
}

/// A 440 Hz tone as a WAV file: 8 kHz, mono, 16-bit PCM (what baresip's `aufile` reads and
/// PCMU carries without resampling).
fn tone_wav(seconds: u32) -> Vec<u8> {
    const RATE: u32 = 8000;
    let samples = RATE * seconds;
    let data_len = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_len as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes()); // bytes per second
    wav.extend_from_slice(&2u16.to_le_bytes()); // block align
    wav.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for n in 0..samples {
        let phase = 2.0 * std::f64::consts::PI * 440.0 * f64::from(n) / f64::from(RATE);
        let sample = (phase.sin() * 8000.0) as i16;
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

/// Runs one call to its end (baresip hangs up after `call.seconds` and exits); blocking.
pub fn dial(dir: &Path, call: &Call<'_>) -> Run {
    std::fs::create_dir_all(dir).unwrap();
    let sip_port = free_sip_port();
    let wav = dir.join("tone.wav");
    std::fs::write(&wav, tone_wav(30)).unwrap();
    std::fs::write(
        dir.join("config"),
        config(sip_port, call.rtp_base, &wav, ""),
    )
    .unwrap();
    let mediaenc = if call.srtp { ";mediaenc=srtp-mand" } else { "" };
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<sip:vtc@127.0.0.1:{sip_port}>;regint=0;answermode=manual;\
             audio_codecs=pcmu;video_codecs=h264{mediaenc}\n"
        ),
    )
    .unwrap();
    let uri = format!(
        "sip:{}@{};transport={}",
        call.user,
        call.target,
        call.transport.param()
    );
    let output = Command::new("baresip")
        .arg("-4")
        .arg("-f")
        .arg(dir)
        .arg("-e")
        .arg(format!("/dial {uri}"))
        .arg("-t")
        .arg(call.seconds.to_string())
        .stdin(Stdio::null())
        .output()
        .expect("baresip runs");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(dir.join("baresip.log"), &log).unwrap();
    Run { output, log }
}

/// The last lines of a log, for failure messages (baresip's status line is one long line).
pub fn tail(log: &str) -> String {
    let lines: Vec<&str> = log
        .lines()
        .filter(|line| !line.starts_with('/') && !line.contains("efps="))
        .collect();
    lines[lines.len().saturating_sub(25)..].join("\n")
}

/// A folder for one run's config and log.
pub fn run_dir(name: &str) -> PathBuf {
    super::tls::scratch_dir(&format!("baresip-{name}"))
}

/// A baresip run in the background that can be driven while it runs: its `ctrl_tcp` socket
/// takes commands (test-peers.md §1), its log is a file read at any time, and its one contact
/// (the `contact` module's current contact) is what `/message` sends to. A MESSAGE it receives
/// is shown only to user interfaces: `stdio.so` prints it to the log (`<from>: "<text>"`),
/// which needs a stdin that can be polled (a pipe kept open; /dev/null cannot, §1.1).
pub struct Running {
    child: Child,
    _stdin: Option<std::process::ChildStdin>,
    log_path: PathBuf,
    ctrl: SocketAddr,
}

/// Starts baresip on `call` (it hangs up and exits after `call.seconds` at the latest) with
/// `contact` (a SIP URI, `sip:user@host:port`) as its current contact for chat.
pub fn start(dir: &Path, call: &Call<'_>, contact: &str) -> Running {
    std::fs::create_dir_all(dir).unwrap();
    let sip_port = free_sip_port();
    let ctrl = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let wav = dir.join("tone.wav");
    std::fs::write(&wav, tone_wav(30)).unwrap();
    let extra = format!(
        "module\tstdio.so\nmodule_app\tcontact.so\nmodule_app\tctrl_tcp.so\n\
         ctrl_tcp_listen\t{ctrl}\n"
    );
    std::fs::write(
        dir.join("config"),
        config(sip_port, call.rtp_base, &wav, &extra),
    )
    .unwrap();
    std::fs::write(dir.join("contacts"), format!("\"Meet\" <{contact}>\n")).unwrap();
    std::fs::write(dir.join("current_contact"), contact).unwrap();
    std::fs::write(
        dir.join("accounts"),
        format!(
            "<sip:vtc@127.0.0.1:{sip_port}>;regint=0;answermode=manual;\
             audio_codecs=pcmu;video_codecs=h264\n"
        ),
    )
    .unwrap();
    let uri = format!(
        "sip:{}@{};transport={}",
        call.user,
        call.target,
        call.transport.param()
    );
    let log_path = dir.join("baresip.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // Line-buffered output (stdbuf, coreutils): the log file is read while baresip runs.
    let mut child = Command::new("stdbuf")
        .arg("-oL")
        .arg("-eL")
        .arg("baresip")
        .arg("-4")
        .arg("-f")
        .arg(dir)
        .arg("-e")
        .arg(format!("/dial {uri}"))
        .arg("-t")
        .arg(call.seconds.to_string())
        .stdin(Stdio::piped())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("baresip runs");
    Running {
        _stdin: child.stdin.take(),
        child,
        log_path,
        ctrl,
    }
}

impl Running {
    /// Everything baresip has logged so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log_path).unwrap_or_default()).into_owned()
    }

    /// Runs one long command (`message`, `hangup`, `quit`, ...) on the control socket: a
    /// netstring-framed JSON request; the answer's text, or why there is none.
    pub fn command(&self, command: &str, params: &str) -> Result<String, String> {
        let request =
            serde_json::json!({"command": command, "params": params, "token": "t"}).to_string();
        let mut stream = TcpStream::connect_timeout(&self.ctrl, Duration::from_secs(2))
            .map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .map_err(|e| e.to_string())?;
        stream
            .write_all(format!("{}:{request},", request.len()).as_bytes())
            .map_err(|e| e.to_string())?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        // Netstrings, `<len>:<json>,`: events may come before the response.
        loop {
            let n = stream.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            while let Some(colon) = answer.iter().position(|&b| b == b':') {
                let Some(len) = std::str::from_utf8(&answer[..colon])
                    .ok()
                    .and_then(|l| l.parse::<usize>().ok())
                else {
                    return Err(format!("not a netstring: {answer:?}"));
                };
                if answer.len() < colon + 1 + len + 1 {
                    break;
                }
                let item =
                    String::from_utf8_lossy(&answer[colon + 1..colon + 1 + len]).into_owned();
                answer.drain(..colon + 1 + len + 1);
                if item.contains("\"response\"") {
                    return Ok(item);
                }
            }
        }
        Err(format!(
            "the control socket closed: {:?}",
            String::from_utf8_lossy(&answer)
        ))
    }

    /// Waits for baresip to exit (after `quit`, or its `-t` time) and returns the run.
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("baresip exits");
        let log = self.log();
        Run {
            output: Output {
                status,
                stdout: log.clone().into_bytes(),
                stderr: Vec::new(),
            },
            log,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // A test that failed half-way must not leave baresip running.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
