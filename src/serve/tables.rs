//! Rows of any table of the RSSD: keyset pages, sort, Datasette-style filters, facets.
//!
//! A table, sort column or filter column is accepted only when it names one that exists:
//! the name put into SQL is the catalog's own, quoted; values are always bound.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, ToSql};
use serde::Serialize;

use super::failure::Failure;
use super::params::Params;

/// Rows on one page.
pub const PAGE_ROWS: usize = 100;
/// Values listed in a facet.
pub const FACET_VALUES: usize = 30;
/// Parameters of the rows pages besides the `COL=...` filters.
pub const RESERVED: &[&str] = &["sort", "after", "facet"];

/// A table that exists, with its columns as the catalog names them.
#[derive(Debug, Clone, Serialize)]
pub struct TableInfo {
    pub name: String,
    pub columns: Vec<String>,
    /// One of rowid's names that no column shadows.
    #[serde(skip)]
    pub rowid: &'static str,
    /// One of rssd's own orchestration tables (browsable like any other, read-only).
    pub orchestration: bool,
}

/// `"name"` with inner quotes doubled.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every table of the database, the RSSD's own (orchestration and surveilr's) last.
pub fn list_tables(conn: &Connection) -> Result<Vec<(String, bool)>, Failure> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         ORDER BY name LIKE 'orchestration_%' OR name = 'device', name",
    )?;
    let names = stmt
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut listed: Vec<(String, bool)> = names
        .into_iter()
        .map(|name| {
            let own = crate::state::is_rssd_table(&name);
            (name, own)
        })
        .collect();
    // Stable: the orchestration tables stay after surveilr's, as the query ordered them.
    listed.sort_by_key(|(name, own)| (*own, crate::state::TABLES.contains(&name.as_str())));
    Ok(listed)
}

/// The table called exactly `wanted`, 404 when there is none.
pub fn table_info(conn: &Connection, wanted: &str) -> Result<TableInfo, Failure> {
    let name: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [wanted],
            |row| row.get(0),
        )
        .optional()?;
    let Some(name) = name else {
        return Err(Failure::not_found(format!(
            "no table {wanted:?} in this RSSD"
        )));
    };
    let stmt = conn.prepare(&format!("SELECT * FROM {} LIMIT 0", quote(&name)))?;
    let columns: Vec<String> = stmt.column_names().map(String::from).collect();
    let rowid = ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|alias| !columns.iter().any(|c| c.eq_ignore_ascii_case(alias)))
        .ok_or_else(|| Failure::bad(format!("{name}: its columns shadow every name of rowid")))?;
    // WITHOUT ROWID tables have no rowid to page on.
    if conn
        .prepare(&format!("SELECT {rowid} FROM {} LIMIT 0", quote(&name)))
        .is_err()
    {
        return Err(Failure::bad(format!(
            "{name} has no rowid; read it with /query"
        )));
    }
    let orchestration = crate::state::is_rssd_table(&name);
    Ok(TableInfo {
        name,
        columns,
        rowid,
        orchestration,
    })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Exact,
    Contains,
    IsNull,
    NotNull,
}

/// `COL=value`, `COL__contains=text`, `COL__isnull=1`.
#[derive(Debug, Clone, Serialize)]
pub struct Filter {
    pub column: String,
    pub op: Op,
    pub value: String,
}

/// What a rows page asks for.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RowQuery {
    /// Column index and descending.
    #[serde(skip)]
    pub sort: Option<(usize, bool)>,
    pub after: Option<i64>,
    pub filters: Vec<Filter>,
    pub facet: Option<String>,
}

fn column_index(info: &TableInfo, name: &str, what: &str) -> Result<usize, Failure> {
    info.columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| Failure::bad(format!("{what}: {:?} has no column {name:?}", info.name)))
}

impl RowQuery {
    pub fn parse(info: &TableInfo, params: &Params) -> Result<RowQuery, Failure> {
        let mut query = RowQuery {
            after: params.int("after")?,
            ..RowQuery::default()
        };
        if let Some(sort) = params.get("sort") {
            let (name, desc) = match sort.strip_prefix('-') {
                Some(name) => (name, true),
                None => (sort, false),
            };
            query.sort = Some((column_index(info, name, "sort")?, desc));
        }
        if let Some(facet) = params.get("facet") {
            column_index(info, facet, "facet")?;
            query.facet = Some(facet.to_string());
        }
        for (key, value) in &params.0 {
            if RESERVED.contains(&key.as_str()) || value.is_empty() {
                continue;
            }
            query.filters.push(parse_filter(info, key, value)?);
        }
        Ok(query)
    }

    pub fn sort_param(&self, info: &TableInfo) -> Option<String> {
        self.sort
            .map(|(index, desc)| format!("{}{}", if desc { "-" } else { "" }, info.columns[index]))
    }
}

fn parse_filter(info: &TableInfo, key: &str, value: &str) -> Result<Filter, Failure> {
    if info.columns.iter().any(|c| c == key) {
        return Ok(Filter {
            column: key.to_string(),
            op: Op::Exact,
            value: value.to_string(),
        });
    }
    let Some((column, op)) = key.rsplit_once("__") else {
        return Err(Failure::bad(format!(
            "{key}: {:?} has no such column (filters are COL=value, COL__contains=text, \
             COL__isnull=1; other parameters: {})",
            info.name,
            RESERVED.join(", ")
        )));
    };
    column_index(info, column, key)?;
    let op = match (op, value) {
        ("exact", _) => Op::Exact,
        ("contains", _) => Op::Contains,
        ("isnull", "1" | "true") => Op::IsNull,
        ("isnull", "0" | "false") => Op::NotNull,
        ("isnull", _) => return Err(Failure::bad(format!("{key}={value:?}: expected 1 or 0"))),
        _ => {
            return Err(Failure::bad(format!(
                "{key}: unknown filter __{op} (exact, contains, isnull)"
            )));
        }
    };
    Ok(Filter {
        column: column.to_string(),
        op,
        value: value.to_string(),
    })
}

fn number(text: &str) -> Option<Value> {
    if let Ok(n) = text.parse::<i64>() {
        return Some(Value::Integer(n));
    }
    text.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .map(Value::Real)
}

/// `WHERE` terms for the filters, with their bound values.
fn filter_terms(filters: &[Filter]) -> (Vec<String>, Vec<Value>) {
    let mut terms = Vec::new();
    let mut values = Vec::new();
    for filter in filters {
        let column = quote(&filter.column);
        match filter.op {
            Op::Exact => {
                // A column without a declared type compares without converting: a number
                // typed in the filter matches the number stored as well as the text.
                let text = Value::Text(filter.value.clone());
                match number(&filter.value) {
                    Some(n) => {
                        terms.push(format!("{column} IN (?, ?)"));
                        values.extend([text, n]);
                    }
                    None => {
                        terms.push(format!("{column} = ?"));
                        values.push(text);
                    }
                }
            }
            Op::Contains => {
                terms.push(format!("{column} LIKE ? ESCAPE '\\'"));
                let escaped = filter
                    .value
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                values.push(Value::Text(format!("%{escaped}%")));
            }
            Op::IsNull => terms.push(format!("{column} IS NULL")),
            Op::NotNull => terms.push(format!("{column} IS NOT NULL")),
        }
    }
    (terms, values)
}

/// The keyset condition "after the row whose sort value is `last` and rowid `rowid`", for
/// `ORDER BY expr, rowid` (or both descending). NULLs sort first, as SQLite sorts them.
pub fn keyset_term(
    expr: &str,
    rowid: &str,
    desc: bool,
    last: Value,
    last_rowid: i64,
) -> (String, Vec<Value>) {
    let r = Value::Integer(last_rowid);
    match (desc, last) {
        (false, Value::Null) => (
            format!("(({expr} IS NULL AND {rowid} > ?) OR {expr} IS NOT NULL)"),
            vec![r],
        ),
        (false, v) => (
            format!("({expr} > ? OR ({expr} = ? AND {rowid} > ?))"),
            vec![v.clone(), v, r],
        ),
        (true, Value::Null) => (format!("({expr} IS NULL AND {rowid} < ?)"), vec![r]),
        (true, v) => (
            format!("({expr} < ? OR ({expr} = ? AND {rowid} < ?) OR {expr} IS NULL)"),
            vec![v.clone(), v, r],
        ),
    }
}

/// The SQL and values that select the filtered rows, in order, from the keyset position on.
/// Selects the rowid first, then every column.
pub fn rows_sql(
    conn: &Connection,
    info: &TableInfo,
    query: &RowQuery,
    limit: Option<usize>,
) -> Result<(String, Vec<Value>), Failure> {
    let table = quote(&info.name);
    let rowid = info.rowid;
    let (mut terms, mut values) = filter_terms(&query.filters);
    let sort = query
        .sort
        .map(|(index, desc)| (quote(&info.columns[index]), desc));
    if let Some(after) = query.after {
        match &sort {
            None => {
                terms.push(format!("{rowid} > ?"));
                values.push(Value::Integer(after));
            }
            Some((column, desc)) => {
                let last: Option<Value> = conn
                    .query_row(
                        &format!("SELECT {column} FROM {table} WHERE {rowid} = ?1"),
                        [after],
                        |row| row.get(0),
                    )
                    .optional()?;
                let last = last.ok_or_else(|| {
                    Failure::bad(format!("after={after}: {:?} has no such row", info.name))
                })?;
                let (term, more) = keyset_term(column, rowid, *desc, last, after);
                terms.push(term);
                values.extend(more);
            }
        }
    }
    let where_clause = if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    };
    let order = match &sort {
        None => rowid.to_string(),
        Some((column, false)) => format!("{column}, {rowid}"),
        Some((column, true)) => format!("{column} DESC, {rowid} DESC"),
    };
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    Ok((
        format!("SELECT {rowid}, * FROM {table}{where_clause} ORDER BY {order}{limit}"),
        values,
    ))
}

/// Bound values as rusqlite parameters.
pub fn as_params(values: &[Value]) -> Vec<&dyn ToSql> {
    values.iter().map(|v| v as &dyn ToSql).collect()
}

/// Counts of the most frequent values of a column among the first `cap` filtered rows.
#[derive(Debug, Clone, Serialize)]
pub struct Facet {
    pub column: String,
    pub values: Vec<(serde_json::Value, i64)>,
    /// Rows counted: the filtered rows, or the first `cap` of them.
    pub rows_counted: i64,
    /// True when the count stopped at `cap` rows (more may match).
    pub capped: bool,
}

pub fn facet(
    conn: &Connection,
    info: &TableInfo,
    query: &RowQuery,
    column: &str,
    cap: usize,
) -> Result<Facet, Failure> {
    let table = quote(&info.name);
    let rowid = info.rowid;
    let (terms, values) = filter_terms(&query.filters);
    let where_clause = if terms.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", terms.join(" AND "))
    };
    // One scan of at most `cap` rows; the window sums every group's count before LIMIT.
    let sql = format!(
        "SELECT v, count(*), sum(count(*)) OVER () FROM
           (SELECT {} AS v FROM {table}{where_clause} ORDER BY {rowid} LIMIT {cap})
         GROUP BY v ORDER BY 2 DESC, 1 LIMIT {FACET_VALUES}",
        quote(column)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(&as_params(&values)[..])?;
    let mut out = Vec::new();
    let mut sampled = 0i64;
    while let Some(row) = rows.next()? {
        out.push((json_value(row.get(0)?), row.get(1)?));
        sampled = row.get(2)?;
    }
    Ok(Facet {
        column: column.to_string(),
        values: out,
        rows_counted: sampled,
        // Exactly `cap` matching rows also reads as capped: the count stopped there.
        capped: sampled >= cap as i64,
    })
}

/// A SQLite value as JSON: numbers, text, null; blobs as lossy text.
pub fn json_value(value: Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(n) => n.into(),
        Value::Real(x) => serde_json::Number::from_f64(x)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(text) => text.into(),
        Value::Blob(bytes) => String::from_utf8_lossy(&bytes).into_owned().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Connection, TableInfo) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE \"t\"\"x\" (a, \"b c\");
             INSERT INTO \"t\"\"x\" VALUES (3,'x'),(NULL,'y'),(1,'x'),(3,NULL),(NULL,'z'),(2,'50%');",
        )
        .unwrap();
        let info = table_info(&conn, "t\"x").unwrap();
        (conn, info)
    }

    fn page(conn: &Connection, info: &TableInfo, query: &str, limit: usize) -> Vec<i64> {
        let q = RowQuery::parse(info, &Params::parse(Some(query))).unwrap();
        let (sql, values) = rows_sql(conn, info, &q, Some(limit)).unwrap();
        let mut stmt = conn.prepare(&sql).unwrap();
        stmt.query_map(&as_params(&values)[..], |row| row.get(0))
            .unwrap()
            .collect::<rusqlite::Result<Vec<i64>>>()
            .unwrap()
    }

    #[test]
    fn keyset_pages_follow_the_sort_through_nulls_both_ways() {
        let (conn, info) = sample();
        for (sort, expected) in [
            ("a", vec![2, 5, 3, 6, 1, 4]),
            ("-a", vec![4, 1, 6, 3, 5, 2]),
        ] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let query = match after {
                    None => format!("sort={sort}"),
                    Some(a) => format!("sort={sort}&after={a}"),
                };
                let rows = page(&conn, &info, &query, 2);
                if rows.is_empty() {
                    break;
                }
                after = rows.last().copied();
                seen.extend(rows);
            }
            assert_eq!(seen, expected, "sort={sort}");
        }
    }

    #[test]
    fn filters_bind_values_and_refuse_unknown_columns() {
        let (conn, info) = sample();
        assert_eq!(page(&conn, &info, "b+c=x", 10), vec![1, 3]);
        assert_eq!(page(&conn, &info, "b+c__contains=%25", 10), vec![6]);
        assert_eq!(page(&conn, &info, "a__isnull=1", 10), vec![2, 5]);
        assert_eq!(page(&conn, &info, "a=3&b+c__isnull=0", 10), vec![1]);
        for bad in [
            "nope=1",
            "a__regex=x",
            "sort=zz",
            "a__isnull=maybe",
            "after=x",
            "facet=q",
        ] {
            assert!(
                RowQuery::parse(&info, &Params::parse(Some(bad))).is_err(),
                "{bad} must be refused"
            );
        }
        assert!(table_info(&conn, "t").is_err());
    }

    #[test]
    fn facets_count_the_first_rows_and_say_when_capped() {
        let (conn, info) = sample();
        let q = RowQuery::default();
        let all = facet(&conn, &info, &q, "b c", 100).unwrap();
        assert_eq!(all.values[0], (serde_json::json!("x"), 2));
        assert!(!all.capped);
        let capped = facet(&conn, &info, &q, "b c", 3).unwrap();
        assert_eq!(capped.rows_counted, 3);
        assert!(capped.capped);
    }
}
