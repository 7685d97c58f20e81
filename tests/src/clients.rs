//! The third-party RomM clients `scripts/clients.sh` builds (pinned, unchanged): where they are, or a loud
//! "not run" locally and a failure with CI=true when they are missing.

use std::path::PathBuf;

use crate::services::unavailable;

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn built(relative: &str, what: &str) -> Option<PathBuf> {
    let path = workspace_root().join(relative);
    if path.exists() {
        Some(path)
    } else {
        unavailable(what, "not built (make test runs scripts/clients.sh)");
        None
    }
}

/// The virtualenv's python with mcp-romm importable as `server`.
pub fn mcp_romm_python() -> Option<PathBuf> {
    built("target/clients/mcp-romm/bin/python", "mcp-romm's virtualenv")
}

/// mcp-romm's driver script.
pub fn mcp_romm_driver() -> PathBuf {
    workspace_root().join("tests/clients/mcp-romm/drive.py")
}

/// The romm-api harness binary.
pub fn romm_api_harness() -> Option<PathBuf> {
    built(
        "target/clients/romm-api/debug/romm-api-harness",
        "the romm-api harness",
    )
}
