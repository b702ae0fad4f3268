//! What a run validates with: the schemas, the rules and the options.

use super::rules::RuleSet;
use super::schema::SchemaSet;

/// Choices that are not part of any schema.
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Match header names to field names exactly (default: ignoring case).
    pub header_case: bool,
    /// Report rows whose cells are all empty as `Blank Row` (the loader already does during
    /// an ingest, so only `rssd validate` asks for it).
    pub report_blank_rows: bool,
}

/// Everything a run validates with.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub schemas: SchemaSet,
    pub rules: RuleSet,
    pub options: ValidateOptions,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.schemas.is_empty() && self.rules.is_empty()
    }
}
