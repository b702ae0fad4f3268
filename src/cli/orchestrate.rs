//! Usage: rssd orchestrate [-n NATURE] [-s SCRIPT]... [--save-script true|false]
//!                         [--allow-remote] [--allow-extensions] [--report FILE]
//!        rssd orchestrate sessions [-n NATURE] [--format table|json|csv]
//!
//! Runs SQL scripts inside one recorded session, as `surveilr orchestrate` does: the script on
//! standard input first (when it is not a terminal and holds text), then each `-s` in order
//! (a glob expands alphabetically). Each script is an entry with states `surveilr_orch_init ->
//! surveilr_orch_progress -> surveilr_orch_completed | surveilr_orch_failed` and a `sql` exec
//! row; a failing script is recorded and the next one still runs. The scripts can call the
//! functions of `docs/functions.md`. `--report FILE` writes the session's report at the end
//! (Markdown, JSON or HTML, from the extension). `-n v&v` records nature `V&V`, `-n deidentification`
//! nature `deidentification`; any other name is its own id.
//!
//! Exit status: 0 all scripts completed, 1 a script failed, 2 usage or fatal error.

use anyhow::Result;

use super::options::ReportOption;
use super::output::Format;
use super::{EXIT_ISSUES, EXIT_OK, Global, args_json};
use rssd::orchestrate::{self, RunOptions, RunReport, source};
use rssd::state::query;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Orchestration nature (`v&v`, `deidentification`, or any id).
    #[arg(short = 'n', long = "nature", default_value = "orchestrate")]
    pub nature: String,
    /// A script file, glob or URL; repeat for more.
    #[arg(short = 's', long = "script")]
    pub scripts: Vec<String>,
    /// Keep each script's text in its entry and exec row.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "true|false")]
    pub save_script: bool,
    /// Allow `https://` script URLs.
    #[arg(long)]
    pub allow_remote: bool,
    /// Allow scripts to call load_extension().
    #[arg(long)]
    pub allow_extensions: bool,
    #[command(flatten)]
    pub report: ReportOption,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Sessions, newest first, as `rssd sessions` lists them.
    Sessions {
        /// Only sessions of this nature (`v&v` is read as `V&V`).
        #[arg(short = 'n', long = "nature")]
        nature: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    if let Some(Action::Sessions { nature, format }) = args.action {
        let db = global.open()?;
        let nature = nature.map(|name| orchestrate::nature_for(&name).0);
        let sessions = query::list_sessions(db.conn(), nature.as_deref())?;
        super::sessions::print_sessions(&sessions, format)?;
        return Ok(EXIT_OK);
    }
    args.report.check()?;
    let mut sources: Vec<_> = source::from_stdin().into_iter().collect();
    sources.extend(source::resolve(&args.scripts, args.allow_remote)?);
    if sources.is_empty() {
        anyhow::bail!("no scripts: pass -s SCRIPT or give one on standard input");
    }
    let (nature_id, nature_label) = orchestrate::nature_for(&args.nature);
    let db = global.open()?;
    let options = RunOptions {
        nature_id,
        nature_label,
        save_script: args.save_script,
        capture_result: false,
        observe: true,
        allow_extensions: args.allow_extensions,
    };
    let report = orchestrate::run(&db, &sources, &options, &args_json())?;
    print_outcomes(&report);
    if let Some(session_id) = &report.session_id {
        args.report.write(&db, session_id)?;
    }
    Ok(if report.failed() > 0 {
        EXIT_ISSUES
    } else {
        EXIT_OK
    })
}

/// One line per script on standard output, failures on standard error too.
pub fn print_outcomes(report: &RunReport) {
    for script in &report.scripts {
        match &script.error {
            None => println!(
                "completed {}: {} statements, {} rows changed",
                script.src, script.statements, script.rows_changed
            ),
            Some(error) => {
                println!("failed    {}: {error}", script.src);
                eprintln!("rssd: {}: {error}", script.src);
            }
        }
    }
    if let Some(session) = &report.session_id {
        println!(
            "session {session}: {} scripts, {} failed",
            report.scripts.len(),
            report.failed()
        );
    }
}
