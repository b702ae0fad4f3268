//! The state names rssd records in `orchestration_session_state`.
//!
//! Sessions: `INITIAL -> RUNNING -> COMPLETED | FAILED | INTERRUPTED | ABANDONED`.
//! Entries of an ingest: `INITIAL -> INGESTING -> INGESTED | FAILED | UNCHANGED | SKIPPED`,
//! then with a schema `VALIDATING -> VALIDATED | INVALID`.
//! Entries of an orchestration follow surveilr: `surveilr_orch_init -> surveilr_orch_progress
//! -> surveilr_orch_completed | surveilr_orch_failed`.

pub const INITIAL: &str = "INITIAL";
pub const RUNNING: &str = "RUNNING";
pub const COMPLETED: &str = "COMPLETED";
pub const FAILED: &str = "FAILED";
pub const INTERRUPTED: &str = "INTERRUPTED";
pub const ABANDONED: &str = "ABANDONED";

pub const INGESTING: &str = "INGESTING";
pub const INGESTED: &str = "INGESTED";
pub const UNCHANGED: &str = "UNCHANGED";
pub const SKIPPED: &str = "SKIPPED";
pub const VALIDATING: &str = "VALIDATING";
pub const VALIDATED: &str = "VALIDATED";
pub const INVALID: &str = "INVALID";

pub const ORCH_INIT: &str = "surveilr_orch_init";
pub const ORCH_PROGRESS: &str = "surveilr_orch_progress";
pub const ORCH_COMPLETED: &str = "surveilr_orch_completed";
pub const ORCH_FAILED: &str = "surveilr_orch_failed";

/// States after which nothing more happens to a session or an entry.
pub fn is_final(state: &str) -> bool {
    matches!(
        state,
        COMPLETED
            | FAILED
            | INTERRUPTED
            | ABANDONED
            | INGESTED
            | UNCHANGED
            | SKIPPED
            | VALIDATED
            | INVALID
            | ORCH_COMPLETED
            | ORCH_FAILED
    )
}
