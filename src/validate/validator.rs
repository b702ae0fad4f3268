//! The [`Validator`]: header and content checks after each load, then sheets, foreign keys,
//! rules and final states after all; and its place in `rssd ingest` as the entry hook.

use std::cell::RefCell;
use std::collections::HashMap;

use super::content::{self, RowChecker};
use super::plan::Plan;
use super::schema::TableSchema;
use super::target::{Checked, Target};
use super::{field::FieldType, foreign_keys, header};
use crate::Result;
use crate::ingest::{ColumnType, EntryHook, LoadedEntry, RowCheck};
use crate::sql::in_transaction;
use crate::state::query::{IssueCounts, issue_counts_by_entry};
use crate::state::{Session, states};

/// Validates the entries of one run. Methods take `&self` so that a loader's hook can hold it.
pub struct Validator {
    plan: Plan,
    checked: RefCell<Vec<Checked>>,
}

impl Validator {
    pub fn new(plan: Plan) -> Validator {
        Validator {
            plan,
            checked: RefCell::new(Vec::new()),
        }
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    fn header_case(&self, schema: &TableSchema) -> bool {
        self.plan.options.header_case || schema.header_case
    }

    fn binding_index(&self, target: &Target) -> Option<usize> {
        self.plan.schemas.bindings.iter().position(|binding| {
            binding.applies_to(&target.source, &target.table, target.sheet.as_deref())
        })
    }

    /// The content checks of an entry about to be loaded, to run as its rows load; None when
    /// no schema applies or its header does not match (then content is not checked).
    pub fn row_checker(&self, target: &Target) -> Option<RowChecker> {
        let binding = &self.plan.schemas.bindings[self.binding_index(target)?];
        let (header, _) = header::match_fields(target, binding, self.header_case(&binding.schema));
        header
            .ok
            .then(|| RowChecker::new(target, &binding.schema, &header.columns, &self.plan.options))
    }

    /// Checks one loaded entry: header first, content only when the header passed. Content
    /// is read back from the table unless `checked_rows` (from [`Validator::row_checker`])
    /// has already seen every row as it loaded.
    pub fn after_load(
        &self,
        session: &mut Session,
        target: &Target,
        checked_rows: Option<RowChecker>,
    ) -> Result<()> {
        let binding_index = self.binding_index(target);
        if binding_index.is_none() && self.plan.rules.is_empty() {
            return Ok(());
        }
        let reason = match checked_rows {
            Some(_) => "checking against the schema and rules (each row was checked as it loaded)",
            None => "checking against the schema and rules",
        };
        session.entry_transition(&target.entry_id, states::VALIDATING, reason)?;
        let mut checked = Checked {
            entry_id: target.entry_id.clone(),
            table: target.table.clone(),
            binding: binding_index,
            header_ok: true,
            columns: Vec::new(),
        };
        if let Some(index) = binding_index {
            let binding = &self.plan.schemas.bindings[index];
            let header_case = self.header_case(&binding.schema);
            let recorder: &Session = session;
            in_transaction(recorder.conn(), || {
                let header = header::check(recorder, target, binding, header_case)?;
                checked.header_ok = header.ok;
                checked.columns = header.columns;
                match checked_rows {
                    _ if !checked.header_ok => {}
                    Some(checker) => content::finish_keys(recorder, target, checker)?,
                    None => content::check(
                        recorder,
                        target,
                        &binding.schema,
                        &checked.columns,
                        &self.plan.options,
                    )?,
                }
                Ok(())
            })?;
        }
        self.checked.borrow_mut().push(checked);
        Ok(())
    }

    /// After every entry is loaded: required sheets, foreign keys, SQL rules, final states.
    /// Returns the session's issue counts per entry, which decided the states.
    pub fn after_all(&self, session: &mut Session, targets: &[Target]) -> Result<IssueCounts> {
        let checked = self.checked.borrow().clone();
        if checked.is_empty() && self.plan.schemas.is_empty() && self.plan.rules.is_empty() {
            return Ok(IssueCounts::new());
        }
        let recorder: &Session = session;
        in_transaction(recorder.conn(), || {
            header::check_sheets(recorder, &self.plan.schemas, targets)?;
            for entry in checked.iter().filter(|entry| entry.header_ok) {
                if let Some(index) = entry.binding {
                    foreign_keys::check(recorder, &self.plan.schemas, index, entry, &checked)?;
                }
            }
            Ok(())
        })?;
        let tables: Vec<(String, String)> = checked
            .iter()
            .map(|entry| (entry.entry_id.clone(), entry.table.clone()))
            .collect();
        self.plan.rules.run(recorder, &tables)?;
        let counts = issue_counts_by_entry(session.conn(), session.id())?;
        for entry in &checked {
            let (errors, warnings) = counts
                .get(&Some(entry.entry_id.clone()))
                .copied()
                .unwrap_or_default();
            let (to, reason) = if !entry.header_ok {
                (
                    states::INVALID,
                    format!(
                        "header does not match the schema; content not checked ({errors} errors, {warnings} warnings)"
                    ),
                )
            } else if errors > 0 {
                (
                    states::INVALID,
                    format!("{errors} errors, {warnings} warnings"),
                )
            } else {
                (states::VALIDATED, format!("no errors, {warnings} warnings"))
            };
            session.entry_transition(&entry.entry_id, to, &reason)?;
        }
        Ok(counts)
    }
}

/// Validation inside `rssd ingest`: declared types from the schema, header and content checks
/// after each load, sheets, foreign keys and rules after all files.
impl EntryHook for Validator {
    /// The declared type of each column (by its header) that a schema field names. Integer and
    /// number fields whose cells are plain numbers become INTEGER and REAL; anything needing
    /// text (a decimal comma, group characters, units) stays TEXT.
    fn declared_types(
        &self,
        source: &str,
        table: &str,
        sheet: Option<&str>,
        columns: &[String],
    ) -> HashMap<String, ColumnType> {
        let Some(binding) = self.plan.schemas.binding_for(source, table, sheet) else {
            return HashMap::new();
        };
        let header_case = self.header_case(&binding.schema);
        columns
            .iter()
            .filter_map(|column| {
                let field = binding
                    .schema
                    .fields
                    .iter()
                    .find(|field| header::same_name(&field.name, column, header_case))?;
                let plain = field.bare_number && field.group_char.is_none();
                let declared = match field.field_type {
                    FieldType::Integer if plain => ColumnType::Integer,
                    FieldType::Number if plain && field.decimal_char == "." => ColumnType::Real,
                    _ => ColumnType::Text,
                };
                Some((column.clone(), declared))
            })
            .collect()
    }

    /// A schema or rule may apply to any file, unchanged or not.
    fn checks_entries(&self) -> bool {
        !self.plan.is_empty()
    }

    fn row_check(&self, entry: &LoadedEntry) -> Option<Box<dyn RowCheck>> {
        let target = Target::from_entry(entry, 0);
        Some(Box::new(self.row_checker(&target)?))
    }

    fn after_load(
        &self,
        session: &mut Session,
        entry: &LoadedEntry,
        row_check: Option<Box<dyn RowCheck>>,
    ) -> Result<()> {
        let target = Target::from_loaded(session.conn(), entry)?;
        let checked_rows = row_check
            .and_then(|check| check.into_any().downcast::<RowChecker>().ok())
            .map(|checker| *checker);
        Validator::after_load(self, session, &target, checked_rows)
    }

    fn after_all(&self, session: &mut Session, entries: &[LoadedEntry]) -> Result<()> {
        let targets = entries
            .iter()
            .map(|entry| Target::from_loaded(session.conn(), entry))
            .collect::<Result<Vec<_>>>()?;
        Validator::after_all(self, session, &targets).map(drop)
    }
}
