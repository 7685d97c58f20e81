//! Opaque JSON objects kept for RomM's clients (`ui_settings`, `sync_config`): checked and bounded, never interpreted.

use crate::ServiceError;

/// A JSON object (given as one, or as its text, as RomM's forms send it) as compact text of at most `max` bytes.
pub(crate) fn object_text(field: &str, v: &serde_json::Value, max: usize) -> Result<String, ServiceError> {
    let object = match v {
        serde_json::Value::String(text) => serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| ServiceError::field(field, format!("not JSON: {e}")))?,
        other => other.clone(),
    };
    if !object.is_object() {
        return Err(ServiceError::field(field, "must be a JSON object"));
    }
    let text = object.to_string();
    if text.len() > max {
        return Err(ServiceError::field(field, format!("at most {} KiB", max / 1024)));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_as_compact_text_and_everything_else_is_refused() {
        let v = serde_json::json!({"a": [1, 2]});
        assert_eq!(object_text("f", &v, 100).unwrap(), r#"{"a":[1,2]}"#);
        let as_text = serde_json::Value::String(r#"{ "a" : 1 }"#.into());
        assert_eq!(object_text("f", &as_text, 100).unwrap(), r#"{"a":1}"#);
        assert!(object_text("f", &serde_json::json!([1]), 100).is_err());
        assert!(object_text("f", &serde_json::Value::String("{".into()), 100).is_err());
        let big = serde_json::json!({"k": "x".repeat(2048)});
        assert!(object_text("f", &big, 1024).is_err());
    }
}
