//! Usage: rssd push URL [-d DB] [--schema NAME] [--tables fail|rename|skip]
//!                  [--format table|json]
//!
//! Replicates the RSSD into PostgreSQL at URL (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`,
//! `?sslmode=disable|prefer|require`): the nine orchestration tables and every loaded table,
//! by COPY, one transaction per session. Incremental: the watermark table in PostgreSQL says
//! which sessions each device pushed, so pushing again sends only what is new. The password
//! comes from the URL, `PGPASSWORD` or `~/.pgpass` (`PGPASSFILE`). `--tables` says what to do
//! with a loaded table whose name PostgreSQL has with other columns: `fail` (default: exit 2,
//! nothing changed), `rename` to `<table>_<device>`, or `skip` it.
//! Exit status: 0 done; 2 fatal (one line on standard error; no session half pushed).

use anyhow::Result;

use super::merge::TablesArg;
use super::output::{Format, Listing, write_json};
use super::{EXIT_OK, Global};
use rssd::fleet::{self, PushOptions};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...]
    pub url: String,
    /// The PostgreSQL schema to push into (created when missing).
    #[arg(long, default_value = "rssd")]
    pub schema: String,
    /// A loaded table whose name PostgreSQL has with other columns.
    #[arg(long, value_enum, default_value_t = TablesArg::Fail)]
    pub tables: TablesArg,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let options = PushOptions {
        url: args.url,
        schema: args.schema,
        tables: args.tables.into(),
        busy_timeout: global.open_options().busy_timeout,
    };
    let summary = fleet::push(&global.state_db, &options)?;
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        write_json(&summary, &mut out)?;
        return Ok(EXIT_OK);
    }
    let mut listing = Listing::new(vec!["session", "device", "rows"]);
    for s in &summary.pushed {
        listing.push(vec![
            s.session_id.clone(),
            s.device_id.clone(),
            s.rows.to_string(),
        ]);
    }
    if !summary.pushed.is_empty() {
        listing.write(args.format, &mut out)?;
    }
    eprintln!(
        "rssd: pushed {} sessions into schema {} ({} already there, {} unfinished)",
        summary.pushed.len(),
        summary.schema,
        summary.already_pushed,
        summary.unfinished
    );
    for table in &summary.skipped_tables {
        eprintln!(
            "rssd: warning: table {table} skipped (--tables skip): PostgreSQL has it with other columns"
        );
    }
    Ok(EXIT_OK)
}
