//! The Python semantics of the gate's lookups and arithmetic: what raises, and how.

use crate::pyjson::Value;
use crate::verify::pyops::{is_num, num_to_f64, PyInt, PyResult, Raised, EMPTY_DICT};

/// `dict.get(key, default)` that raises AttributeError on a non-dict, as Python does.
pub(super) fn get<'a>(v: &'a Value, key: &str, default: &'a Value) -> PyResult<&'a Value> {
    crate::verify::pyops::get(v, key, default)
}

/// `dict_or_empty(report.get(key))`: the value if it is a dict, else `{}`.
pub(super) fn dict_or_empty<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v.get(key) {
        Some(d @ Value::Object(_)) => d,
        _ => &EMPTY_DICT,
    }
}

/// `_coerce_finite_float` of an `_coerce_int` result (a Python int or None): OverflowError
/// for an int beyond a float escapes.
pub(super) fn int_to_finite_float(v: &Option<PyInt>) -> PyResult<Option<f64>> {
    match v {
        None => Ok(None),
        Some(PyInt(digits)) => {
            let f: f64 = digits.parse().unwrap_or(f64::INFINITY);
            if f.is_finite() {
                Ok(Some(f))
            } else {
                Err(Raised::python(
                    "OverflowError",
                    "int too large to convert to float",
                ))
            }
        }
    }
}

/// Python `a <= int`: only whether it raises matters (the spectral flag it feeds is not the
/// gate's), which it does for anything but a number.
pub(super) fn comparable_with_int(a: &Value) -> PyResult<()> {
    if is_num(a) {
        Ok(())
    } else {
        Err(Raised::python(
            "TypeError",
            format!(
                "'<=' not supported between instances of '{}' and 'int'",
                a.py_type_name()
            ),
        ))
    }
}

/// `math.isfinite(x)` for an int/float/bool (OverflowError for a huge int).
pub(super) fn isfinite(v: &Value) -> PyResult<bool> {
    Ok(num_to_f64(v)?.is_finite())
}

/// Adds two non-negative decimal integers (Python ints are unbounded).
pub(super) fn add_decimal(a: &str, b: &str) -> String {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut out = Vec::with_capacity(a.len().max(b.len()) + 1);
    let (mut i, mut j, mut carry) = (a.len(), b.len(), 0u8);
    while i > 0 || j > 0 || carry > 0 {
        let mut d = carry;
        if i > 0 {
            i -= 1;
            d += a[i] - b'0';
        }
        if j > 0 {
            j -= 1;
            d += b[j] - b'0';
        }
        out.push(b'0' + d % 10);
        carry = d / 10;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::add_decimal;

    #[test]
    fn decimal_addition_carries_like_python_ints() {
        assert_eq!(add_decimal("25600", "25600"), "51200");
        assert_eq!(add_decimal("0", "0"), "0");
        assert_eq!(
            add_decimal("99999999999999999999999", "1"),
            "100000000000000000000000"
        );
    }
}
