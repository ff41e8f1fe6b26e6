//! A [`Preparation`] as the JSON a model file keeps, and back. Reading
//! checks every part against the others, since the file may come from
//! anywhere: a damaged one is refused with the reason, never half-read.

use super::{ImputeMethod, Imputer, Preparation, Standardizer};
use serde_json::{Value, json};

impl Preparation {
    /// The JSON a model file keeps.
    pub fn to_json(&self) -> String {
        let moments = |s: &Standardizer| json!({ "mean": s.mean, "std": s.std });
        let impute = self
            .imputer
            .as_ref()
            .map(|i| json!({ "method": i.method.keyword(), "fill": i.fill }));
        json!({
            "features": self.features,
            "target_columns": self.target_columns,
            "classes": self.classes,
            "labels_are_names": self.labels_are_names,
            "raw_len": self.raw_len,
            "sample_shape": self.sample_shape,
            "scale": self.scale,
            "impute": impute,
            "standardize": self.standardizer.as_ref().map(moments),
            "standardize_targets": self.target_standardizer.as_ref().map(moments),
        })
        .to_string()
    }

    /// Reads what [`Preparation::to_json`] wrote; `Err` says what is wrong.
    /// A file written before `impute` and `standardize targets` existed
    /// reads as one without them.
    pub fn from_json(text: &str) -> Result<Preparation, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let strings = |key: &str| -> Result<Vec<String>, String> {
            v.get(key)
                .and_then(Value::as_array)
                .ok_or(format!("`{key}` is missing"))?
                .iter()
                .map(|s| s.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or(format!("`{key}` holds something other than names"))
        };
        let raw_len = v
            .get("raw_len")
            .and_then(Value::as_u64)
            .ok_or("`raw_len` is missing")? as usize;
        let sample_shape: Vec<usize> = v
            .get("sample_shape")
            .and_then(Value::as_array)
            .ok_or("`sample_shape` is missing")?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or("`sample_shape` holds something other than sizes")?;
        if sample_shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            != Some(raw_len)
        {
            return Err(format!(
                "`sample_shape` {sample_shape:?} does not hold `raw_len` {raw_len} values"
            ));
        }
        let features = strings("features")?;
        if !features.is_empty() && features.len() != raw_len {
            return Err(format!(
                "{} feature names for {raw_len} values per sample",
                features.len()
            ));
        }
        let scale = match v.get("scale") {
            None | Some(Value::Null) => None,
            Some(s) => Some(
                s.as_f64()
                    .map(|s| s as f32)
                    .filter(|s| s.is_finite())
                    .ok_or("`scale` is not a finite number")?,
            ),
        };
        let target_columns = strings("target_columns")?;
        let classes = strings("classes")?;
        let standardizer = moments(&v, "standardize", raw_len)?;
        let target_standardizer = match v.get("standardize_targets") {
            None | Some(Value::Null) => None,
            Some(_) if !classes.is_empty() => {
                return Err("`standardize_targets` for classes, not regression targets".into());
            }
            Some(_) => moments(&v, "standardize_targets", target_columns.len())?,
        };
        Ok(Preparation {
            features,
            target_columns,
            classes,
            labels_are_names: v
                .get("labels_are_names")
                .and_then(Value::as_bool)
                .ok_or("`labels_are_names` is missing")?,
            raw_len,
            sample_shape,
            scale,
            imputer: imputer(&v, raw_len)?,
            standardizer,
            target_standardizer,
        })
    }
}

/// The finite numbers of `v[outer][key]`.
fn floats(v: &Value, outer: &str, key: &str) -> Result<Vec<f32>, String> {
    v.get(key)
        .and_then(Value::as_array)
        .ok_or(format!("`{outer}.{key}` is missing"))?
        .iter()
        .map(|x| x.as_f64().map(|x| x as f32).filter(|x| x.is_finite()))
        .collect::<Option<_>>()
        .ok_or(format!(
            "`{outer}.{key}` holds something other than finite numbers"
        ))
}

/// `v[key]`: a mean and a positive deviation for each of `len` positions.
fn moments(v: &Value, key: &str, len: usize) -> Result<Option<Standardizer>, String> {
    let s = match v.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(s) => s,
    };
    let (mean, std) = (floats(s, key, "mean")?, floats(s, key, "std")?);
    if mean.len() != len || std.len() != len {
        return Err(format!("`{key}` does not hold {len} statistics"));
    }
    if std.iter().any(|&d| d <= 0.0) {
        return Err(format!(
            "`{key}.std` holds a deviation that is not positive"
        ));
    }
    Ok(Some(Standardizer { mean, std }))
}

/// `v["impute"]`: a method and a fill value for each of `raw_len` positions.
fn imputer(v: &Value, raw_len: usize) -> Result<Option<Imputer>, String> {
    let i = match v.get("impute") {
        None | Some(Value::Null) => return Ok(None),
        Some(i) => i,
    };
    let method = i
        .get("method")
        .and_then(Value::as_str)
        .and_then(ImputeMethod::from_keyword)
        .ok_or("`impute.method` is not `mean`, `median` or `zero`")?;
    let fill = floats(i, "impute", "fill")?;
    if fill.len() != raw_len {
        return Err(format!(
            "`impute.fill` holds {} values for {raw_len} values per sample",
            fill.len()
        ));
    }
    Ok(Some(Imputer { method, fill }))
}
