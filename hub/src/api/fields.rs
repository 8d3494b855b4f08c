//! Reading a JSON request body field by field, collecting a message for every invalid one, so a
//! client learns everything wrong with a request at once.

use axum::extract::rejection::JsonRejection;
use axum::Json;
use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::error::FieldErrors;
use crate::HubError;

/// Turns the `Json` extractor's result into the body's object, or a 400.
pub fn object(body: Result<Json<Value>, JsonRejection>) -> Result<Map<String, Value>, HubError> {
    match body {
        Ok(Json(Value::Object(map))) => Ok(map),
        Ok(Json(_)) => Err(HubError::MalformedJson("expected a JSON object".to_owned())),
        Err(rejection) => Err(HubError::MalformedJson(rejection.body_text())),
    }
}

pub struct Fields {
    body: Map<String, Value>,
    errors: FieldErrors,
}

impl Fields {
    pub fn new(body: Map<String, Value>) -> Self {
        Fields {
            body,
            errors: FieldErrors::new(),
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.body.get(name).is_some_and(|v| !v.is_null())
    }

    fn fail<T>(&mut self, name: &str, message: &str) -> Option<T> {
        self.errors.insert(name.to_owned(), message.to_owned());
        None
    }

    /// A required, non-blank string (trimmed).
    pub fn string(&mut self, name: &str) -> Option<String> {
        match self.body.get(name) {
            None | Some(Value::Null) => self.fail(name, "is required"),
            Some(Value::String(s)) if s.trim().is_empty() => self.fail(name, "must not be blank"),
            Some(Value::String(s)) => Some(s.trim().to_owned()),
            Some(_) => self.fail(name, "must be a string"),
        }
    }

    /// A required integer of at least `min`.
    pub fn int_at_least(&mut self, name: &str, min: i64) -> Option<i64> {
        match self.body.get(name) {
            None | Some(Value::Null) => self.fail(name, "is required"),
            Some(v) => match v.as_i64() {
                Some(n) if n >= min => Some(n),
                Some(_) => self.fail(name, &format!("must be at least {min}")),
                None => self.fail(name, "must be an integer"),
            },
        }
    }

    /// An optional `YYYY-MM-DD` date.
    pub fn optional_date(&mut self, name: &str) -> Option<NaiveDate> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Ok(date) => Some(date),
                Err(_) => self.fail(name, "must be a date as YYYY-MM-DD"),
            },
            Some(_) => self.fail(name, "must be a date as YYYY-MM-DD"),
        }
    }

    /// Records an error found by a rule spanning several fields.
    pub fn reject(&mut self, name: &str, message: &str) {
        self.errors.insert(name.to_owned(), message.to_owned());
    }

    /// Ok with `value` when every field read was valid (`value` is then `Some`).
    pub fn finish<T>(self, value: Option<T>) -> Result<T, HubError> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ => Err(HubError::InvalidFields(self.errors)),
        }
    }
}
