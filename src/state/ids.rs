//! Ids the engine makes: ULIDs, monotonic within a process so that ids sort in the order they
//! were made. Ids read from the database are never parsed: other tools use other shapes.

use std::sync::Mutex;

use ulid::Generator;

static GENERATOR: Mutex<Option<Generator>> = Mutex::new(None);

/// A new ULID as its 26-character text.
pub fn new_id() -> String {
    let mut guard = match GENERATOR.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    };
    let generator = guard.get_or_insert_with(Generator::new);
    // The monotonic generator only fails when 2^80 ids are made in one millisecond.
    match generator.generate() {
        Ok(id) => id.to_string(),
        Err(_) => ulid::Ulid::generate().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_ulids_in_order() {
        let ids: Vec<String> = (0..1000).map(|_| new_id()).collect();
        assert!(ids.iter().all(|id| id.len() == 26));
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
