//! Helpers for the tests that drive a real Chromium against meet-sim (included with
//! `#[path]`): a loopback-only network namespace to run them in, the playwright driver
//! (`tests/browser/driver.mjs`) as a child process, a plain-text `GET`, and an SDP reader
//! for assertions.
//!
//! Chromium must run where only `lo` exists, or it would also gather the host's real
//! addresses (shared/docs/test-peers.md §4.1). [`in_loopback_netns`] gives a closure its own
//! network namespace: a dedicated thread `unshare`s one, brings `lo` up and builds a tokio
//! runtime whose threads, and every child process they start, inherit it. A simulator the
//! closure spawns on 127.0.0.1 and the browser the driver launches then see only each other.
//!
//! What these tests need and a developer machine may lack (root for `unshare`, Chromium,
//! `npm ci` in `tests/browser/`; `deploy/install-deps.sh` installs the latter two): when it
//! is missing the test prints a loud notice and passes, except under `CI`, where it fails.
//!
//! Cargo also builds this file as a test target of its own; it holds no tests.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::future::Future;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;
use tokio::process::{Child, ChildStdout};
use tokio::task::JoinHandle;

/// The browser the driver launches (Debian's package).
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// meet-sim's `tests/browser/`: the driver and its `node_modules` (found from meet-sim's
/// tests and from another crate of the workspace that includes this file).
pub fn browser_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let own = manifest.join("tests/browser");
    if own.exists() {
        own
    } else {
        manifest.join("../meet-sim/tests/browser")
    }
}

/// `why` is a reason to skip: a failure under `CI`, a loud notice otherwise.
fn skip(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "browser test cannot run: {why}"
    );
    // Straight to the file descriptor: libtest hides `eprintln!` output of passing tests.
    let line = "*".repeat(78);
    let _ = writeln!(
        io::stderr(),
        "\n{line}\nSKIPPED browser test: {why}\n{line}\n"
    );
}

/// Whether Chromium and the driver's packages are installed; when not, [`skip`]s (which
/// fails under `CI`) and returns false.
pub fn browser_available() -> bool {
    let playwright = browser_dir().join("node_modules/playwright-core");
    let missing: Vec<String> = [
        (Path::new(CHROMIUM), "apt-get install chromium"),
        (
            playwright.as_path(),
            "npm ci --prefix meet-sim/tests/browser",
        ),
    ]
    .into_iter()
    .filter(|(path, _)| !path.exists())
    .map(|(path, fix)| format!("{} ({fix})", path.display()))
    .collect();
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let missing = if node {
        missing
    } else {
        [missing, vec!["node (apt-get install nodejs)".to_owned()]].concat()
    };
    if missing.is_empty() {
        return true;
    }
    skip(&format!(
        "missing {} (deploy/install-deps.sh installs them)",
        missing.join(", ")
    ));
    false
}

/// Makes this thread's network namespace a new one holding only `lo`, and brings `lo` up.
fn enter_loopback_netns() -> io::Result<()> {
    // SAFETY: unshare takes no pointers; with CLONE_NEWNET alone it only moves the calling
    // thread to a fresh network namespace, which a multi-threaded process may do.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!("unshare(CLONE_NEWNET): {err} (needs root or CAP_SYS_ADMIN)"),
        ));
    }
    // A child starts in the namespace of the thread that spawns it.
    let status = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .map_err(|e| io::Error::new(e.kind(), format!("ip link set lo up: {e} (iproute2)")))?;
    if !status.success() {
        return Err(io::Error::other(format!("ip link set lo up: {status}")));
    }
    Ok(())
}

/// Runs `f` on a fresh tokio runtime inside a new network namespace that holds only `lo`
/// (up, 127.0.0.1). Returns its output, or `None` when no namespace could be made (not
/// root): then it has [`skip`]ped, which fails under `CI`. A panic in `f` panics here.
pub fn in_loopback_netns<F, Fut, T>(f: F) -> Option<T>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    let thread = std::thread::Builder::new()
        .name("loopback-netns".to_owned())
        .spawn(move || -> io::Result<T> {
            enter_loopback_netns()?;
            // Worker and blocking threads are spawned from this thread, so they inherit
            // its namespace.
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            Ok(runtime.block_on(f()))
        })
        .expect("spawn the netns thread");
    match thread.join() {
        Ok(Ok(value)) => Some(value),
        Ok(Err(err)) => {
            skip(&format!("no loopback-only network namespace: {err}"));
            None
        }
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// One page the driver opens, in a browser context of its own.
#[derive(Clone, Debug)]
pub struct PageSpec {
    /// Its URL.
    pub url: String,
    /// Opened this long after the start.
    pub start_after: Duration,
    /// Its own `pollUntil` (see [`DriverSpec::poll_until`]).
    pub until: Option<String>,
    /// Scripts to run in it, each once.
    pub actions: Vec<Action>,
}

/// A script the driver runs once in a page: at its first check (every `pollMs`, default
/// 250 ms) at least `at` after the start where `when` holds.
#[derive(Clone, Debug)]
pub struct Action {
    /// Not before this long after the start.
    pub at: Duration,
    /// A JavaScript expression over `tcn` and `stats`, as for `pollUntil`.
    pub when: Option<String>,
    /// JavaScript statements, e.g. `tcn.leave()`.
    pub eval: String,
}

/// What the driver does: pages to open, for how long, when to stop early.
#[derive(Clone, Debug)]
pub struct DriverSpec {
    /// The pages.
    pub pages: Vec<PageSpec>,
    /// The longest the run lasts.
    pub duration: Duration,
    /// Print a snapshot line this often (see [`BrowserRun::next_poll`]).
    pub poll: Option<Duration>,
    /// A JavaScript expression over `tcn` (the page's `window.tcn`) and `stats` (what
    /// `tcn.stats()` returned); the run ends once it (or a page's own) is true on every page.
    pub poll_until: Option<String>,
    /// Answer the pages' join calls from an in-browser fake Meet peer
    /// (`tests/browser/fake-meet.js`) that asks for stats uploads this often (seconds),
    /// instead of the simulator.
    pub fake_meet: Option<u32>,
}

impl DriverSpec {
    /// `urls` opened at once, for at most `duration`.
    pub fn new<S: Into<String>>(urls: impl IntoIterator<Item = S>, duration: Duration) -> Self {
        Self {
            pages: urls
                .into_iter()
                .map(|url| PageSpec {
                    url: url.into(),
                    start_after: Duration::ZERO,
                    until: None,
                    actions: Vec::new(),
                })
                .collect(),
            duration,
            poll: None,
            poll_until: None,
            fake_meet: None,
        }
    }

    /// Ends the run once `expression` is true on every page.
    pub fn until(mut self, expression: &str) -> Self {
        self.poll_until = Some(expression.to_owned());
        self
    }

    /// Page `index` (from 0) waits for `expression` instead of the spec's.
    pub fn page_until(mut self, index: usize, expression: &str) -> Self {
        self.pages[index].until = Some(expression.to_owned());
        self
    }

    /// Page `index` runs `eval` once `when` (over `tcn` and `stats`) holds.
    pub fn page_action(mut self, index: usize, when: &str, eval: &str) -> Self {
        self.pages[index].actions.push(Action {
            at: Duration::ZERO,
            when: Some(when.to_owned()),
            eval: eval.to_owned(),
        });
        self
    }

    /// Joins the in-browser fake Meet peer, which asks for stats every `upload_secs`.
    pub fn with_fake_meet(mut self, upload_secs: u32) -> Self {
        self.fake_meet = Some(upload_secs);
        self
    }

    /// Prints a snapshot every `every`.
    pub fn polling(mut self, every: Duration) -> Self {
        self.poll = Some(every);
        self
    }

    /// The driver's JSON argument.
    pub fn to_json(&self) -> Value {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let pages: Vec<Value> = self
            .pages
            .iter()
            .map(|p| {
                let mut page = serde_json::json!({"url": p.url, "startAfterMs": ms(p.start_after)});
                if let Some(until) = &p.until {
                    page["pollUntil"] = until.clone().into();
                }
                if !p.actions.is_empty() {
                    let actions: Vec<Value> = p
                        .actions
                        .iter()
                        .map(|a| {
                            let mut action = serde_json::json!({"atMs": ms(a.at), "eval": a.eval});
                            if let Some(when) = &a.when {
                                action["when"] = when.clone().into();
                            }
                            action
                        })
                        .collect();
                    page["actions"] = actions.into();
                }
                page
            })
            .collect();
        let mut spec = serde_json::json!({"pages": pages, "durationMs": ms(self.duration)});
        if let Some(poll) = self.poll {
            spec["pollMs"] = ms(poll).into();
        }
        if let Some(until) = &self.poll_until {
            spec["pollUntil"] = until.clone().into();
        }
        if let Some(secs) = self.fake_meet {
            spec["fakeMeet"] = serde_json::json!({"uploadIntervalSeconds": secs});
        }
        spec
    }
}

/// A running driver (`node tests/browser/driver.mjs`). Killed when dropped.
#[derive(Debug)]
pub struct BrowserRun {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Reads the driver's stderr as it comes (so a full pipe cannot stall it).
    stderr: Option<JoinHandle<String>>,
    /// The final line, once read by `next_poll`.
    done: Option<Value>,
    deadline: tokio::time::Instant,
}

impl BrowserRun {
    /// Starts the driver on `spec`; call it inside [`in_loopback_netns`].
    pub fn start(spec: &DriverSpec) -> Self {
        let mut child = tokio::process::Command::new("node")
            .arg(browser_dir().join("driver.mjs"))
            .arg(spec.to_json().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start node tests/browser/driver.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut pipe = child.stderr.take().expect("piped stderr");
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text).await;
            text
        });
        Self {
            child,
            lines: BufReader::new(stdout).lines(),
            stderr: Some(stderr),
            done: None,
            // The browser's start and shutdown on top of the run's own length.
            deadline: tokio::time::Instant::now() + spec.duration + Duration::from_secs(30),
        }
    }

    async fn read_line(&mut self) -> Option<Value> {
        let line = tokio::time::timeout_at(self.deadline, self.lines.next_line())
            .await
            .expect("the browser driver ran past its duration + 30 s")
            .expect("read the driver's stdout")?;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("driver line {line:?}: {e}")))
    }

    /// The next snapshot `{"poll","elapsedMs","pages"}` (with [`DriverSpec::polling`]), or
    /// `None` once the final line has come (read it with [`Self::finish`]).
    pub async fn next_poll(&mut self) -> Option<Value> {
        if self.done.is_some() {
            return None;
        }
        let line = self.read_line().await?;
        if line["done"] == true {
            self.done = Some(line);
            None
        } else {
            Some(line)
        }
    }

    /// Waits for the end; returns the final line `{"done","elapsedMs","browserVersion",
    /// "pages"}`. Panics, with the driver's stderr, when it exits non-zero or prints no
    /// final line.
    pub async fn finish(mut self) -> Value {
        while self.next_poll().await.is_some() {}
        let status = tokio::time::timeout_at(self.deadline, self.child.wait())
            .await
            .expect("the browser driver did not exit")
            .expect("wait for the driver");
        let stderr = match self.stderr.take() {
            Some(task) => task.await.unwrap_or_default(),
            None => String::new(),
        };
        assert!(
            status.success(),
            "browser driver failed ({status}):\n{stderr}"
        );
        self.done
            .take()
            .unwrap_or_else(|| panic!("the driver printed no final line; stderr:\n{stderr}"))
    }
}

/// One line per page of a driver result: state, error, and what flows (for test logs).
pub fn summary(result: &Value) -> String {
    let mut out = String::new();
    for page in result["pages"].as_array().into_iter().flatten() {
        let tcn = &page["tcn"];
        let streams = |dir: &str, count: &str| -> Vec<String> {
            page["stats"][dir]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    let id = s["rid"]
                        .as_str()
                        .or_else(|| s["mid"].as_str())
                        .unwrap_or("");
                    let limit = match s["qualityLimitationReason"].as_str() {
                        Some(reason) if reason != "none" => format!(" ({reason})"),
                        _ => String::new(),
                    };
                    format!(
                        "{}:{id}={}{limit}",
                        s["kind"].as_str().unwrap_or("?"),
                        s[count]
                    )
                })
                .collect()
        };
        out += &format!(
            "{}{}\n  state {} error {} connection {} (estimate {} bit/s) messages {}\n  sent {:?}\n  received {:?}\n  console {}\n",
            page["url"],
            page["snapshotError"]
                .as_str()
                .map(|e| format!(" (no snapshot: {e})"))
                .unwrap_or_default(),
            tcn["sessionState"],
            tcn["error"],
            page["stats"]["connectionState"],
            page["stats"]["availableOutgoingBitrate"],
            tcn["messages"].as_array().map_or(0, Vec::len),
            streams("outbound", "packetsSent"),
            streams("inbound", "packetsReceived"),
            page["console"],
        );
    }
    out
}

/// Runs the driver on `spec` to the end; the final line (see [`BrowserRun::finish`]).
pub async fn drive(spec: &DriverSpec) -> Value {
    BrowserRun::start(spec).finish().await
}

/// A plain-text HTTP response.
#[derive(Debug)]
pub struct TextReply {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl TextReply {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `GET path` with `Connection: close`, the body read to EOF (the simulator sends static
/// files with a `Content-Length`, never chunked).
pub async fn get_text(addr: SocketAddr, path: &str) -> TextReply {
    let mut stream = TcpStream::connect(addr).await.expect("connect to meet-sim");
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    TextReply {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// One media section of an SDP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaSection {
    /// `audio`, `video` or `application`.
    pub kind: String,
    /// `sendrecv`, `sendonly`, `recvonly` or `inactive` (`sendrecv` when absent).
    pub direction: String,
    /// The payload formats of the `m=` line, in order.
    pub formats: Vec<String>,
    /// Every `a=` line, without the `a=`.
    pub attributes: Vec<String>,
}

impl MediaSection {
    /// The values of `a={name}:…`, in order.
    pub fn attribute_values(&self, name: &str) -> Vec<&str> {
        let prefix = format!("{name}:");
        self.attributes
            .iter()
            .filter_map(|a| a.strip_prefix(&prefix))
            .collect()
    }

    /// The encoding name (`VP8`, `opus`) of each payload format, in `m=` line order.
    pub fn codecs(&self) -> Vec<&str> {
        let rtpmaps = self.attribute_values("rtpmap");
        self.formats
            .iter()
            .filter_map(|pt| {
                rtpmaps.iter().find_map(|r| {
                    let (num, rest) = r.split_once(' ')?;
                    (num == pt).then(|| rest.split('/').next().unwrap_or(""))
                })
            })
            .collect()
    }
}

/// The media sections of `sdp`, in order.
pub fn media_sections(sdp: &str) -> Vec<MediaSection> {
    let mut sections: Vec<MediaSection> = Vec::new();
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            let mut parts = m.split_whitespace();
            let kind = parts.next().unwrap_or("").to_owned();
            let formats = parts.skip(2).map(str::to_owned).collect();
            sections.push(MediaSection {
                kind,
                direction: "sendrecv".to_owned(),
                formats,
                attributes: Vec::new(),
            });
        } else if let (Some(a), Some(section)) = (line.strip_prefix("a="), sections.last_mut()) {
            if matches!(a, "sendrecv" | "sendonly" | "recvonly" | "inactive") {
                a.clone_into(&mut section.direction);
            }
            section.attributes.push(a.to_owned());
        }
    }
    sections
}
