//! Usage: rssd init [-d FILE] [--device-name NAME] [--boundary B]
//!
//! Creates the RSSD, or adopts the one at FILE as it is: missing orchestration tables and
//! surveilr's other tables (content store, notebooks, parties, SQLPage pages) are created,
//! existing ones are never altered, and this machine's device row is upserted.
//! Running it twice changes nothing.

use anyhow::Result;

use super::{EXIT_OK, Global};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(global: &Global, _args: Args) -> Result<u8> {
    let db = global.open()?;
    let report = db.open_report();
    let path = db.path().display();
    if report.created_file {
        println!(
            "created {path}: {} orchestration tables, {} surveilr tables",
            report.tables_created.len(),
            report.surveilr_tables_created.len()
        );
    } else if report.tables_created.is_empty() && report.surveilr_tables_created.is_empty() {
        println!("{path}: RSSD already in place; nothing to create");
    } else {
        println!(
            "adopted {path}: created missing tables {}",
            [
                &report.tables_created[..],
                &report.surveilr_tables_created[..]
            ]
            .concat()
            .join(", ")
        );
    }
    let device = db.device();
    println!(
        "device {} ({}, boundary {})",
        device.device_id, device.name, device.boundary
    );
    for session in &report.abandoned_sessions {
        println!("marked session {session} ABANDONED: its process ended without finishing it");
    }
    Ok(EXIT_OK)
}
