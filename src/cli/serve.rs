//! Usage: rssd serve [-d RSSD] [--bind ADDR:PORT] [--token TOKEN] [--open]
//!                   [--time-limit MS] [--max-rows N] [--facet-rows N]
//!
//! Serves the RSSD read-only as a local web application: sessions, entries, issues and every
//! table as pages, and the same data as JSON under /api/. Prints the URL to open (with the
//! token when there is one) and serves until interrupted. Binding anything but a loopback
//! address needs a token: --token, RSSD_SERVE_TOKEN, or one generated and printed.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{EXIT_OK, Global};
use rssd::serve::{DEFAULT_BIND, ServeOptions, Server};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address and port to listen on (port 0: any free port).
    #[arg(long, default_value = DEFAULT_BIND, value_name = "ADDR:PORT")]
    pub bind: SocketAddr,
    /// Token every request must carry (cookie from a ?token= link, or Authorization: Bearer).
    /// Required off loopback; generated and printed when not given.
    #[arg(long, env = "RSSD_SERVE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Open the URL in the desktop's browser (xdg-open).
    #[arg(long)]
    pub open: bool,
    /// Milliseconds a page's queries or a SQL box query may run before they are stopped.
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub time_limit: u64,
    /// Rows the SQL box returns at most.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_rows: usize,
    /// Rows a facet counts at most: the first N rows that match the filters.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub facet_rows: usize,
}

pub fn run(global: &Global, args: Args) -> Result<u8> {
    let options = ServeOptions {
        bind: args.bind,
        token: args.token,
        time_limit: Duration::from_millis(args.time_limit.max(1)),
        max_rows: args.max_rows.max(1),
        facet_rows: args.facet_rows.max(1),
    };
    let server = Server::bind(&global.state_db, options)?;
    let url = server.url();
    println!(
        "rssd: serving {} read-only at {url}",
        global.state_db.display()
    );
    if server.token().is_some() {
        eprintln!("rssd: every request needs the token in that link (or Authorization: Bearer)");
    }
    if args.open {
        std::process::Command::new("xdg-open")
            .arg(&url)
            .spawn()
            .context("--open: cannot run xdg-open")?;
    }
    server.run()?;
    Ok(EXIT_OK)
}
