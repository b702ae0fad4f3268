//! Pure text helpers: de-identification and regular expressions.

use super::*;

/// Registers a one-argument text helper that maps NULL to NULL.
pub(super) fn register_text_helper(
    conn: &Connection,
    name: &str,
    helper: fn(&str) -> Option<String>,
) -> Result<()> {
    conn.create_scalar_function(name, 1, PURE, move |ctx| {
        Ok(text_arg(ctx, 0).and_then(|text| helper(&text)))
    })?;
    Ok(())
}

pub(super) fn register_deidentification(conn: &Connection) -> Result<()> {
    for arity in [1, 2] {
        conn.create_scalar_function("anonymize_name", arity, PURE, |ctx| {
            let salt = optional_text_arg(ctx, 1);
            Ok(text_arg(ctx, 0).map(|name| deidentify::anonymize_name(&name, salt.as_deref())))
        })?;
        conn.create_scalar_function("anonymize_email", arity, PURE, |ctx| {
            let salt = optional_text_arg(ctx, 1);
            Ok(text_arg(ctx, 0).map(|email| deidentify::anonymize_email(&email, salt.as_deref())))
        })?;
        conn.create_scalar_function("mask", arity, PURE, |ctx| {
            let mask_char = optional_text_arg(ctx, 1)
                .and_then(|text| text.chars().next())
                .unwrap_or('*');
            Ok(text_arg(ctx, 0).map(|text| deidentify::mask(&text, mask_char)))
        })?;
    }
    register_text_helper(conn, "mask_phone", |t| Some(deidentify::mask_phone(t)))?;
    register_text_helper(conn, "mask_financial", |t| {
        Some(deidentify::mask_financial(t))
    })?;
    register_text_helper(conn, "mask_dob", |t| Some(deidentify::mask_dob(t)))?;
    register_text_helper(conn, "mask_address", |t| Some(deidentify::mask_address(t)))?;
    register_text_helper(conn, "anonymize_date", deidentify::anonymize_date)?;
    register_text_helper(conn, "generalize_age", |t| {
        t.trim()
            .parse::<f64>()
            .ok()
            .and_then(deidentify::generalize_age)
    })?;
    conn.create_scalar_function("hash", 1, PURE, |ctx| {
        Ok(match ctx.get_raw(0) {
            ValueRef::Null => None,
            ValueRef::Blob(bytes) => Some(deidentify::sha1_hex(bytes)),
            _ => text_arg(ctx, 0).map(|text| deidentify::sha1_hex(text.as_bytes())),
        })
    })?;
    Ok(())
}

/// The compiled pattern of argument `index`, cached by SQLite for as long as the statement
/// passes the same pattern.
pub(super) fn pattern(ctx: &Context<'_>, index: usize) -> rusqlite::Result<Option<Arc<Regex>>> {
    if matches!(ctx.get_raw(index), ValueRef::Null) {
        return Ok(None);
    }
    ctx.get_or_create_aux(index as i32, |value| -> std::result::Result<Regex, Error> {
        let text = value
            .as_str()
            .map_err(|_| Error::Invalid("a regular expression must be text".to_string()))?;
        Regex::new(text).map_err(|err| Error::Invalid(format!("invalid regular expression: {err}")))
    })
    .map(Some)
}

pub(super) fn register_regexp(conn: &Connection) -> Result<()> {
    // `x REGEXP p` calls regexp(p, x).
    conn.create_scalar_function("regexp", 2, PURE, |ctx| {
        let (Some(re), Some(text)) = (pattern(ctx, 0)?, text_arg(ctx, 1)) else {
            return Ok(None);
        };
        Ok(Some(re.is_match(&text) as i64))
    })?;
    conn.create_scalar_function("regexp_like", 2, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(Some(re.is_match(&text) as i64))
    })?;
    conn.create_scalar_function("regexp_substr", 2, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        Ok(re.find(&text).map(|m| m.as_str().to_string()))
    })?;
    for arity in [2, 3] {
        conn.create_scalar_function("regexp_capture", arity, PURE, |ctx| {
            let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
                return Ok(None);
            };
            let group: i64 = if ctx.len() > 2 { ctx.get(2)? } else { 1 };
            let Ok(group) = usize::try_from(group) else {
                return Ok(None);
            };
            Ok(re
                .captures(&text)
                .and_then(|caps| caps.get(group))
                .map(|m| m.as_str().to_string()))
        })?;
    }
    conn.create_scalar_function("regexp_replace", 3, PURE, |ctx| {
        let (Some(text), Some(re)) = (text_arg(ctx, 0), pattern(ctx, 1)?) else {
            return Ok(None);
        };
        let replacement = text_arg(ctx, 2).unwrap_or_default();
        Ok(Some(
            re.replace_all(&text, replacement.as_str()).into_owned(),
        ))
    })?;
    Ok(())
}
