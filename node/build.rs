//! Records the git revision for `tcn version`, `/status` and `tcn_build_info`.

use std::path::Path;
use std::process::Command;

fn main() {
    let revision = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=TCN_GIT_REVISION={revision}");
    // Rebuild when HEAD moves: HEAD names the branch, refs/ (a folder cargo scans) and
    // packed-refs hold where it points. Only name paths that exist: a missing one would rerun
    // this script on every build.
    for path in ["../.git/HEAD", "../.git/refs", "../.git/packed-refs"] {
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
