use indexmap::IndexMap;

/// A JSON object with Python `dict` semantics: insertion order kept, a duplicate key keeps its
/// first position and takes the last value.
pub type Object = IndexMap<String, Value>;

/// A parsed JSON value that keeps what Python keeps: ints apart from floats, NaN and infinities,
/// integers beyond i64 as their decimal text.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    /// An integer literal outside i64, kept verbatim (Python ints are unbounded).
    BigInt(String),
    Float(f64),
    Str(String),
    Array(Vec<Value>),
    Object(Object),
    /// A value the caller asked the parser to skip (see `ParseOptions::skip`); syntax was checked.
    Skipped,
}

impl Value {
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(map) => map.get(key),
            _ => None,
        }
    }

    /// Follows object keys; `None` as soon as a step is missing or not an object.
    pub fn pointer(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, k| v.get(k))
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer that fits i64 (bool excluded).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The value as f64 if it is a JSON number (int or float; bool excluded).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::BigInt(s) => s.parse::<f64>().ok(),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Python's `isinstance(x, (int, float))`: numbers and bools.
    pub fn is_number_or_bool(&self) -> bool {
        matches!(
            self,
            Value::Int(_) | Value::BigInt(_) | Value::Float(_) | Value::Bool(_)
        )
    }

    /// Like `as_f64`, but bools count as 1.0 / 0.0 (Python `bool` is an `int`).
    pub fn number_or_bool_f64(&self) -> Option<f64> {
        match self {
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            other => other.as_f64(),
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null | Value::Skipped => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
        }
    }

    /// The Python type name, as it appears in Python error messages.
    pub fn py_type_name(&self) -> &'static str {
        match self {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Array(_) => "list",
            Value::Object(_) | Value::Skipped => "dict",
        }
    }

    /// Converts to serde_json for API responses. JSON has no NaN/Infinity, so non-finite floats
    /// become the strings `"NaN"`, `"Infinity"`, `"-Infinity"` rather than silently `null`.
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Skipped => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::BigInt(s) => J::String(s.clone()),
            Value::Float(f) => float_to_serde(*f),
            Value::Str(s) => J::String(s.clone()),
            Value::Array(a) => J::Array(a.iter().map(Value::to_serde).collect()),
            Value::Object(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_serde())).collect())
            }
        }
    }
}

/// A float for an API response; see [`Value::to_serde`].
pub fn float_to_serde(f: f64) -> serde_json::Value {
    match serde_json::Number::from_f64(f) {
        Some(n) => serde_json::Value::Number(n),
        None if f.is_nan() => serde_json::Value::String("NaN".into()),
        None if f > 0.0 => serde_json::Value::String("Infinity".into()),
        None => serde_json::Value::String("-Infinity".into()),
    }
}
