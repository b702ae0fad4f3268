//! The query string of a request, parsed by rssd itself so every malformed value gets a
//! 400 that names the parameter.

use super::failure::Failure;

/// `name=value` pairs in the order they came. An empty value counts as absent (an empty
/// field of a filter form).
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

/// Parameters every page takes besides its own: the token link.
const COMMON: &[&str] = &["token"];

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        let pairs = form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .filter(|(name, _)| !COMMON.contains(&name.as_str()))
            .collect();
        Params(pairs)
    }

    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `name` as an integer, 400 when it is not one.
    pub fn int(&self, name: &str) -> Result<Option<i64>, Failure> {
        self.get(name)
            .map(|text| {
                text.trim()
                    .parse::<i64>()
                    .map_err(|_| Failure::bad(format!("{name}={text:?}: not an integer")))
            })
            .transpose()
    }

    /// Refuses any parameter not in `known`.
    pub fn only(&self, known: &[&str]) -> Result<(), Failure> {
        match self
            .0
            .iter()
            .find(|(name, _)| !known.contains(&name.as_str()))
        {
            Some((name, _)) => Err(Failure::bad(format!(
                "unknown parameter {name:?}; this page takes {}",
                known.join(", ")
            ))),
            None => Ok(()),
        }
    }

    /// `name` as one of `choices`, 400 otherwise.
    pub fn choice(&self, name: &str, choices: &[&str]) -> Result<Option<String>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(value) if choices.contains(&value) => Ok(Some(value.to_string())),
            Some(value) => Err(Failure::bad(format!(
                "{name}={value:?}: expected one of {}",
                choices.join(", ")
            ))),
        }
    }

    /// The query string again with `name` set to `value` (or removed when None).
    pub fn with(&self, name: &str, value: Option<&str>) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (n, v) in &self.0 {
            if n != name && !v.is_empty() {
                out.append_pair(n, v);
            }
        }
        if let Some(value) = value {
            out.append_pair(name, value);
        }
        out.finish()
    }
}

/// A date `YYYY-MM-DD`, 400 otherwise.
pub fn date(name: &str, value: Option<&str>) -> Result<Option<String>, Failure> {
    let Some(value) = value else { return Ok(None) };
    match chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        Ok(day) => Ok(Some(day.format("%Y-%m-%d").to_string())),
        Err(_) => Err(Failure::bad(format!(
            "{name}={value:?}: expected a date YYYY-MM-DD"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded_and_bad_ones_named() {
        let params = Params::parse(Some("a=%3Cb%3E&n=x&token=t&empty="));
        assert_eq!(params.get("a"), Some("<b>"));
        assert_eq!(params.get("token"), None);
        assert_eq!(params.get("empty"), None);
        let err = params.int("n").unwrap_err();
        assert!(err.reason.contains("n=\"x\""), "{}", err.reason);
        assert!(params.only(&["a", "n", "empty"]).is_ok());
        assert!(params.only(&["a"]).is_err());
        assert_eq!(params.with("n", Some("2")), "a=%3Cb%3E&n=2");
        assert!(date("since", Some("2026-13-01")).is_err());
        assert_eq!(
            date("since", Some("2026-01-02")).unwrap().as_deref(),
            Some("2026-01-02")
        );
    }
}
