//! The `geopoint` type: `"lon, lat"` by default, `[lon, lat]` for `array`, `{"lon", "lat"}`
//! for `object`.

use serde_json::Value as Json;

use super::number::python_decimal;

/// A point in the field's format, as (longitude, latitude) within their ranges.
pub fn lon_lat(text: &str, format: &str) -> Option<(f64, f64)> {
    let (lon, lat) = match format {
        "array" => match serde_json::from_str::<Json>(text).ok()? {
            Json::Array(items) if items.len() == 2 => (items[0].as_f64()?, items[1].as_f64()?),
            _ => return None,
        },
        "object" => match serde_json::from_str::<Json>(text).ok()? {
            Json::Object(map) if map.len() == 2 => {
                (map.get("lon")?.as_f64()?, map.get("lat")?.as_f64()?)
            }
            _ => return None,
        },
        _ => {
            let (lon, lat) = text.split_once(',')?;
            if lat.contains(',') {
                return None;
            }
            (python_decimal(lon.trim())?, python_decimal(lat.trim())?)
        }
    };
    ((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)).then_some((lon, lat))
}
