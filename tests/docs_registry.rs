//! The language reference and the fuzz dictionary are checked against the
//! layer, optimizer and data-source registries: a registered kind without
//! its documentation section, or an argument the section does not mention,
//! fails here.

use dlc::layers::STAGES;
use dlc::optimizers::OPTIMIZERS;
use dlc::sources::SOURCES;

const LANGUAGE: &str = include_str!("../docs/language.md");
const DICTIONARY: &str = include_str!("../fuzz/dl.dict");

/// The text of `## N. Title` up to the next `## ` heading.
fn chapter<'a>(doc: &'a str, title: &str) -> &'a str {
    let heading = doc
        .lines()
        .find(|l| l.starts_with("## ") && l.ends_with(title))
        .unwrap_or_else(|| panic!("docs/language.md has no chapter `{title}`"));
    let start = doc.find(heading).unwrap() + heading.len();
    let rest = &doc[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    &rest[..end]
}

/// Each `### ` section of a chapter: its heading and its text.
fn sections(chapter: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = chapter;
    while let Some(at) = rest.find("\n### ") {
        let body = &rest[at + 1..];
        let heading_end = body.find('\n').unwrap_or(body.len());
        let end = body[heading_end..]
            .find("\n### ")
            .map_or(body.len(), |e| heading_end + e);
        out.push((&body[..heading_end], &body[..end]));
        rest = &body[end..];
    }
    out
}

#[test]
fn every_layer_has_a_documented_section_naming_all_its_arguments() {
    let layers = chapter(LANGUAGE, "Layers");
    let sections = sections(layers);
    let mut missing = Vec::new();
    for stage in STAGES {
        let quoted = format!("`{}`", stage.keyword);
        let Some((_, text)) = sections.iter().find(|(h, _)| h.contains(&quoted)) else {
            missing.push(format!("no `### ` section names {quoted}"));
            continue;
        };
        for arg in stage.argument_names() {
            if !text.contains(&format!("`{arg}")) {
                missing.push(format!("the section of {quoted} does not mention `{arg}`"));
            }
        }
        let in_table = layers.lines().any(|l| {
            l.starts_with("| ") && l.split('|').nth(1).is_some_and(|c| c.contains(&quoted))
        });
        if !in_table {
            missing.push(format!("the table of layers has no row for {quoted}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/language.md:\n{}",
        missing.join("\n")
    );
}

/// The words of `kinds` (each keyword and its argument names) that the fuzz
/// dictionary lacks.
fn missing_from_dictionary(
    kinds: impl Iterator<Item = (&'static str, Vec<&'static str>)>,
) -> Vec<&'static str> {
    let mut missing: Vec<&str> = kinds
        .flat_map(|(keyword, args)| std::iter::once(keyword).chain(args))
        .filter(|word| !DICTIONARY.lines().any(|l| l == format!("\"{word}\"")))
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

#[test]
fn the_fuzz_dictionary_has_every_layer_and_argument() {
    let missing = missing_from_dictionary(STAGES.iter().map(|s| (s.keyword, s.argument_names())));
    assert!(missing.is_empty(), "fuzz/dl.dict lacks {missing:?}");
}

#[test]
fn keywords_are_unique() {
    let mut seen = std::collections::HashSet::new();
    for stage in STAGES {
        assert!(
            seen.insert(stage.keyword),
            "`{}` is registered twice",
            stage.keyword
        );
    }
}

#[test]
fn the_initialisation_table_names_every_activation_with_its_choice() {
    let chapter = chapter(LANGUAGE, "Initialisation");
    let row = |name: &str| {
        chapter
            .lines()
            .filter(|l| l.starts_with("| "))
            .find(|l| {
                l.split('|').nth(1).is_some_and(|c| {
                    c.contains(&format!("`{name}`")) || c.contains(&format!("`{name} "))
                })
            })
            .map(str::to_owned)
    };
    let mut wrong = Vec::new();
    for stage in STAGES {
        // Every activation has a default for each argument.
        let Some(op) = stage.with_defaults() else {
            continue;
        };
        let Some(act) = op.rule().activation() else {
            continue;
        };
        let want = match act.init {
            dlc::check::Init::He { .. } => "He",
            dlc::check::Init::Xavier => "Xavier",
            other => panic!("`{}` asks for {other:?}", stage.keyword),
        };
        match row(stage.keyword) {
            Some(r) if r.contains(want) => {}
            Some(r) => wrong.push(format!(
                "`{}` initialises with {want}, the table says {r}",
                stage.keyword
            )),
            None => wrong.push(format!("`{}` is missing from the table", stage.keyword)),
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/language.md, Initialisation:\n{}",
        wrong.join("\n")
    );
}

/// The text of `### Title` up to the next heading of any level.
fn section<'a>(doc: &'a str, title: &str) -> &'a str {
    let heading = format!("\n### {title}\n");
    let start = doc
        .find(&heading)
        .unwrap_or_else(|| panic!("docs/language.md has no section `{title}`"))
        + heading.len();
    let rest = &doc[start..];
    &rest[..rest.find("\n#").unwrap_or(rest.len())]
}

#[test]
fn every_optimizer_has_a_table_row_with_all_its_arguments_and_a_description() {
    let text = section(LANGUAGE, "Optimizers");
    let mut missing = Vec::new();
    for entry in OPTIMIZERS {
        let quoted = format!("`{}`", entry.keyword);
        let row = text.lines().find(|l| {
            l.starts_with("| ") && l.split('|').nth(1).is_some_and(|c| c.trim() == quoted)
        });
        match row {
            None => missing.push(format!("the table of optimizers has no row for {quoted}")),
            Some(row) => {
                let inherits = row.contains("as `");
                for arg in entry.argument_names() {
                    if !row.contains(&format!("`{arg}`")) && !inherits {
                        missing.push(format!("the row of {quoted} does not mention `{arg}`"));
                    }
                }
            }
        }
        if !text.contains(&format!("- {quoted}: ")) {
            missing.push(format!("no `- {quoted}: ...` paragraph describes it"));
        }
        if !text.contains(&format!("optimizer {}(", entry.keyword)) {
            missing.push(format!("no example uses {quoted}"));
        }
    }
    assert!(
        missing.is_empty(),
        "docs/language.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_fuzz_dictionary_has_every_optimizer_and_argument() {
    let missing =
        missing_from_dictionary(OPTIMIZERS.iter().map(|o| (o.keyword, o.argument_names())));
    assert!(missing.is_empty(), "fuzz/dl.dict lacks {missing:?}");
}

#[test]
fn every_source_has_a_section_and_a_table_row_naming_all_its_arguments() {
    let data = chapter(LANGUAGE, "Data");
    let mut missing = Vec::new();
    for entry in SOURCES {
        let quoted = format!("`{}`", entry.keyword);
        if !data.contains(&format!("\n#### {quoted}\n")) {
            missing.push(format!("no `#### {quoted}` section"));
        }
        let row = data.lines().find(|l| {
            l.starts_with("| ") && l.split('|').nth(1).is_some_and(|c| c.trim() == quoted)
        });
        let Some(row) = row else {
            missing.push(format!("the table of sources has no row for {quoted}"));
            continue;
        };
        for arg in entry.argument_names() {
            if !row.contains(&format!("`{arg}`")) {
                missing.push(format!("the row of {quoted} does not mention `{arg}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/language.md:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_fuzz_dictionary_has_every_source_and_argument() {
    let missing = missing_from_dictionary(SOURCES.iter().map(|s| (s.keyword, s.argument_names())));
    assert!(missing.is_empty(), "fuzz/dl.dict lacks {missing:?}");
}
