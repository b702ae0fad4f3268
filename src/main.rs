//! The `rssd` binary: the command line over the `rssd` library. Only this binary knows clap.

mod cli;

fn main() -> std::process::ExitCode {
    without_sqlite_memory_statistics();
    cli::main()
}

/// SQLite keeps process-wide memory statistics behind a mutex taken on every allocation:
/// about 5% of a big load's inserting thread. rssd never reads them. The setting is the
/// process's, so the binary makes it, not the library.
fn without_sqlite_memory_statistics() {
    // SAFETY: sqlite3_config must run before SQLite is initialised; this is the first thing
    // the process does, before any connection exists. Had SQLite started already, the call
    // would only return SQLITE_MISUSE and change nothing.
    unsafe {
        rusqlite::ffi::sqlite3_config(rusqlite::ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int);
    }
}
