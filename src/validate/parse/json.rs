//! The `object` and `array` types: JSON text of that shape.

use serde_json::Value as Json;

pub fn object(text: &str) -> Option<Json> {
    match serde_json::from_str::<Json>(text) {
        Ok(json @ Json::Object(_)) => Some(json),
        _ => None,
    }
}

pub fn array(text: &str) -> Option<Json> {
    match serde_json::from_str::<Json>(text) {
        Ok(json @ Json::Array(_)) => Some(json),
        _ => None,
    }
}
