//! Helpers shared by the signaling integration tests.

#![allow(dead_code, unreachable_pub)] // each test binary uses a different subset

use std::path::PathBuf;

/// The SIP torture-test corpus (`rfc4475/`, `rfc5118/`): `$TCN_SIP_CORPUS`, else
/// `shared/corpora/sip` beside the checkout. When it is missing the tests say they were
/// skipped and pass, except under CI (`CI` set), where a missing corpus is a failure: CI has
/// `shared/` beside the clone, and a skip there would hide that the tests did not run.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TCN_SIP_CORPUS").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/corpora/sip"
            ))
        },
        PathBuf::from,
    );
    if dir.join("rfc4475").is_dir() && dir.join("rfc5118").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "SIP corpus not found at {} under CI (set TCN_SIP_CORPUS)",
        dir.display()
    );
    eprintln!("skipped: SIP corpus not found (set TCN_SIP_CORPUS)");
    None
}

/// The bytes of `<set>/<file>` in the corpus, or `None` when it is missing (see
/// [`corpus_dir`]).
pub fn load(set: &str, file: &str) -> Option<Vec<u8>> {
    let path = corpus_dir()?.join(set).join(file);
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}
