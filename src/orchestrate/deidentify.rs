//! The de-identification helpers scripts call (`anonymize_name`, `mask`, `hash`, ...).
//!
//! Every helper is deterministic: the same input always gives the same output, so a value
//! de-identified in two tables still joins. Pseudonyms come from SHA-1 of the input (plus an
//! optional salt); without a salt, someone holding a list of candidate names can re-identify
//! them, so pass a secret salt when that matters. NULL in gives NULL out (in the SQL layer).

use sha1::{Digest, Sha1};

/// SHA-1 of the bytes, as 40 lowercase hex digits.
pub fn sha1_hex(bytes: &[u8]) -> String {
    let digest = Sha1::digest(bytes);
    let mut hex = String::with_capacity(40);
    for byte in digest.iter() {
        hex.push_str(&format!("{byte:02x}"));
    }
    hex
}

fn salted_digest(text: &str, salt: Option<&str>) -> String {
    match salt {
        Some(salt) => sha1_hex(format!("{salt}\u{0}{text}").as_bytes()),
        None => sha1_hex(text.as_bytes()),
    }
}

/// `anonymize_name('Alice Smith')` -> `Person 2f1c...` (10 hex digits of the digest).
/// Case and surrounding spaces do not change the pseudonym.
pub fn anonymize_name(name: &str, salt: Option<&str>) -> String {
    let key = name.trim().to_lowercase();
    if key.is_empty() {
        return name.to_string();
    }
    format!("Person {}", &salted_digest(&key, salt)[..10])
}

/// Replaces the part before `@` with `user_` and 10 hex digits of the digest of the whole
/// address; the domain stays. Text without `@` gets a pseudonym alone.
pub fn anonymize_email(email: &str, salt: Option<&str>) -> String {
    let trimmed = email.trim();
    if trimmed.is_empty() {
        return email.to_string();
    }
    let pseudonym = format!(
        "user_{}",
        &salted_digest(&trimmed.to_lowercase(), salt)[..10]
    );
    match trimmed.rfind('@') {
        Some(at) => format!("{pseudonym}{}", &trimmed[at..]),
        None => pseudonym,
    }
}

/// Keeps the last 6 characters and replaces the others with `mask_char`:
/// `1234567890` -> `****567890`. A value of 6 characters or fewer is masked whole, so a short
/// secret is never shown.
pub fn mask(text: &str, mask_char: char) -> String {
    let count = text.chars().count();
    if count <= 6 {
        return std::iter::repeat_n(mask_char, count).collect();
    }
    text.chars()
        .enumerate()
        .map(|(i, c)| if i < count - 6 { mask_char } else { c })
        .collect()
}

/// Stars every digit except the last `keep`, leaving punctuation and spaces in place.
fn mask_digits_keeping_last(text: &str, keep: usize) -> String {
    let digits = text.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    text.chars()
        .map(|c| {
            if c.is_ascii_digit() {
                seen += 1;
                if seen + keep <= digits { '*' } else { c }
            } else {
                c
            }
        })
        .collect()
}

/// Keeps the shape and the last 4 digits: `+1 (555) 123-4567` -> `+* (***) ***-4567`.
pub fn mask_phone(phone: &str) -> String {
    mask_digits_keeping_last(phone, 4)
}

/// Keeps the last 4 digits of an account or card number: `4111 1111 1111 1234` ->
/// `**** **** **** 1234`.
pub fn mask_financial(number: &str) -> String {
    mask_digits_keeping_last(number, 4)
}

/// Keeps the year (the first run of 4 digits) and stars the other digits:
/// `1985-07-23` -> `1985-**-**`, `07/23/1985` -> `**/**/1985`. Without a 4-digit year every
/// digit is starred.
pub fn mask_dob(date: &str) -> String {
    let chars: Vec<char> = date.chars().collect();
    let mut year = None;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 {
                year = Some(start..i);
                break;
            }
        } else {
            i += 1;
        }
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let in_year = year.as_ref().is_some_and(|range| range.contains(&i));
            if c.is_ascii_digit() && !in_year {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// Stars the letters and digits of the street line (everything before the first comma) and
/// keeps the rest: `12 Main St, Springfield, IL` -> `** **** **, Springfield, IL`. Without a
/// comma the whole value is starred.
pub fn mask_address(address: &str) -> String {
    let cut = address.find(',').unwrap_or(address.len());
    let (street, rest) = address.split_at(cut);
    let masked: String = street
        .chars()
        .map(|c| if c.is_alphanumeric() { '*' } else { c })
        .collect();
    format!("{masked}{rest}")
}

/// Five-year bands: `32` -> `30-35`, `35` -> `35-40`. `None` for text that is not a
/// non-negative number.
pub fn generalize_age(age: f64) -> Option<String> {
    if !age.is_finite() || age < 0.0 {
        return None;
    }
    let low = (age / 5.0).floor() as i64 * 5;
    Some(format!("{low}-{}", low + 5))
}

/// Keeps year and month of an ISO date (`2023-07-23` or `2023-07-23 10:00`) and sets the day
/// to 01: `2023-07-01`, still a date SQLite's date functions read. Other text keeps its first
/// 4-digit year alone; `None` when there is none.
pub fn anonymize_date(date: &str) -> Option<String> {
    let trimmed = date.trim();
    let bytes = trimmed.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range.clone())
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    if digits(0..4) && bytes.get(4) == Some(&b'-') && digits(5..7) {
        return Some(format!("{}-01", &trimmed[..7]));
    }
    let chars: Vec<char> = trimmed.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 4 {
            return Some(chars[start..i].iter().collect());
        }
        i = i.max(start + 1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_matches_the_known_vector() {
        assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn mask_keeps_last_six() {
        assert_eq!(mask("1234567890", '*'), "****567890");
        assert_eq!(mask("secret", '*'), "******");
        assert_eq!(mask("ab", '#'), "##");
        assert_eq!(mask("ééééééé", '*'), "*éééééé");
    }

    #[test]
    fn names_and_emails_are_stable_pseudonyms() {
        let a = anonymize_name("Alice Smith", None);
        assert_eq!(a, anonymize_name("  alice smith ", None));
        assert_ne!(a, anonymize_name("Bob Smith", None));
        assert_ne!(a, anonymize_name("Alice Smith", Some("pepper")));
        // The examples in docs/functions.md.
        assert_eq!(a, "Person b6a89e867e");
        assert_eq!(
            anonymize_email("baasit@surveilr.com", None),
            "user_b714b45ecd@surveilr.com"
        );
        let e = anonymize_email("baasit@surveilr.com", None);
        assert!(
            e.starts_with("user_") && e.ends_with("@surveilr.com"),
            "{e}"
        );
        assert!(!e.contains("baasit"));
    }

    #[test]
    fn digits_masks() {
        assert_eq!(mask_phone("+1 (555) 123-4567"), "+* (***) ***-4567");
        assert_eq!(mask_financial("4111 1111 1111 1234"), "**** **** **** 1234");
        assert_eq!(mask_dob("1985-07-23"), "1985-**-**");
        assert_eq!(mask_dob("07/23/1985"), "**/**/1985");
        assert_eq!(
            mask_address("12 Main St, Springfield, IL"),
            "** **** **, Springfield, IL"
        );
    }

    #[test]
    fn ages_and_dates() {
        assert_eq!(generalize_age(32.0).as_deref(), Some("30-35"));
        assert_eq!(generalize_age(35.0).as_deref(), Some("35-40"));
        assert_eq!(generalize_age(-1.0), None);
        assert_eq!(anonymize_date("2023-07-23").as_deref(), Some("2023-07-01"));
        assert_eq!(
            anonymize_date("2023-07-23 10:11:12").as_deref(),
            Some("2023-07-01")
        );
        assert_eq!(anonymize_date("23 July 2023").as_deref(), Some("2023"));
        assert_eq!(anonymize_date("soon"), None);
    }
}
