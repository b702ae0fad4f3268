//! `--tenant-id` / `--tenant-name`: the tenant as surveilr's multitenancy scripts find it, a
//! `party` of type ORGANIZATION, its `organization` row, and this device related to it.

use rusqlite::{Connection, params};

use crate::Result;
use crate::sql::write_transaction;
use crate::state::new_id;

/// A tenant: its party id, and its name (the id when none is given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub name: String,
}

/// Creates what is missing of the tenant's rows; rows already there are kept as they are.
pub(super) fn ensure(conn: &Connection, tenant: &Tenant, device_id: &str) -> Result<()> {
    write_transaction(conn, || {
        conn.execute(
            "INSERT OR IGNORE INTO party (party_id, party_type_id, party_name, created_by)
             VALUES (?1, 'ORGANIZATION', ?2, 'rssd')",
            params![tenant.id, tenant.name],
        )?;
        conn.execute(
            "INSERT OR IGNORE INTO organization (organization_id, name, created_by)
             VALUES (?1, ?2, 'rssd')",
            params![tenant.id, tenant.name],
        )?;
        conn.execute(
            "INSERT OR IGNORE INTO device_party_relationship
                 (device_party_relationship_id, device_id, party_id, created_by)
             VALUES (?1, ?2, ?3, 'rssd')",
            params![new_id(), device_id, tenant.id],
        )?;
        Ok(())
    })
}
