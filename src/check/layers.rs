//! The names a stage may give a layer, and the names other frameworks give
//! dlc's layers. Each layer kind's own arguments and shape rule are in its
//! definition (`crate::layers`).

/// Whether `name` is a layer kind a stage can name.
pub fn is_builtin(name: &str) -> bool {
    crate::layers::registry::find(name).is_some()
}

/// Names from other frameworks, with the dlc spelling.
pub fn alias(name: &str) -> Option<String> {
    let lower = name.to_lowercase();
    if matches!(lower.as_str(), "reshape" | "view") {
        return Some("only `flatten` reshapes inside a network; reshape the data with `reshape [c, h, w]` in its `data` item".into());
    }
    let ours = crate::layers::STAGES
        .iter()
        .find(|s| s.aliases.contains(&lower.as_str()))?
        .keyword;
    Some(format!("`{name}` is written `{ours}` in dlc"))
}
