//! Validation: Frictionless Table Schemas and SQL rules over loaded tables, every problem an
//! issue row.
//!
//! A [`Validator`] follows a run of entries: [`Validator::after_load`] checks one loaded table
//! (header, then content: each row as it loaded, through a [`RowChecker`] on the loader's
//! parser thread, or streamed back from the table), and [`Validator::after_all`] checks what
//! needs every table (workbook sheets, foreign keys), runs the SQL rules and moves each entry
//! `VALIDATING -> VALIDATED | INVALID`. `rssd ingest` calls both through its entry hook;
//! [`validate_tables`] drives them over tables already in the database.

mod content;
pub mod field;
mod foreign_keys;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod header;
mod parse;
mod plan;
pub mod rules;
pub mod schema;
mod stored;
mod tables;
mod target;
mod unique_keys;
mod validator;

pub use content::RowChecker;
pub use field::{Cast, Field, FieldType};
pub use plan::{Plan, ValidateOptions};
pub use rules::RuleSet;
pub use schema::{Binding, SchemaSet, TableSchema};
pub use stored::cell_text;
pub use tables::{ValidateOutcome, select_tables, validate_tables};
pub use target::{Target, TargetColumn};
pub use validator::Validator;
