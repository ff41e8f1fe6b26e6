//! The C header and README of a built model: what the object's functions
//! take and return, the names of the features and classes, how to link.

use super::Summary;
use crate::check::Loss;
use std::fmt::Write;

const C_KEYWORDS: [&str; 44] = [
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "class",
    "namespace",
    "template",
    "new",
    "delete",
    "this",
    "operator",
];

/// Whether `name` can prefix C (and C++) identifiers.
pub fn is_c_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !C_KEYWORDS.contains(&name)
        && name.len() <= 64
}

/// `text` as a C string literal: quotes, backslashes and every byte outside
/// printable ASCII escaped (octal, three digits, so no digit after it can
/// join the escape).
fn c_string(text: &str) -> String {
    let mut s = String::from("\"");
    for byte in text.bytes() {
        match byte {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            // `??x` would be a trigraph in older C.
            b'?' => s.push_str("\\?"),
            0x20..=0x7e => s.push(byte as char),
            _ => {
                let _ = write!(s, "\\{byte:03o}");
            }
        }
    }
    s.push('"');
    s
}

/// `text` safe inside a `/* */` comment.
fn comment_safe(text: &str) -> String {
    text.replace("*/", "* /")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn names_array(out: &mut String, name: &str, len_macro: &str, names: &[String]) {
    let _ = writeln!(out, "static const char *const {name}[{len_macro}] = {{");
    for n in names {
        let _ = writeln!(out, "    {},", c_string(n));
    }
    out.push_str("};\n");
}

const LIBM: [&str; 10] = [
    "ceilf",
    "ceil",
    "floorf",
    "floor",
    "truncf",
    "trunc",
    "nearbyintf",
    "nearbyint",
    "fmaf",
    "fma",
];

/// The link line for a program `main.c`, given the symbols the object
/// leaves undefined: libm's need `-lm`.
pub fn link_line(name: &str, undefined: &[String]) -> String {
    let libm = undefined.iter().any(|u| LIBM.contains(&u.as_str()));
    format!(
        "cc main.c {name}.o -o app{}",
        if libm { " -lm" } else { "" }
    )
}

/// "malloc and free from the C library", and libm's functions if any.
fn calls(undefined: &[String]) -> String {
    let (libm, libc): (Vec<&String>, Vec<&String>) =
        undefined.iter().partition(|u| LIBM.contains(&u.as_str()));
    let list = |names: Vec<&String>| {
        let names: Vec<&str> = names.iter().map(|n| n.as_str()).collect();
        match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
            None => String::new(),
        }
    };
    let mut text = format!("{} from the C library", list(libc));
    if !libm.is_empty() {
        text += &format!(" and {} from libm (-lm)", list(libm));
    }
    text
}

fn output_text(s: &Summary) -> String {
    match s.loss {
        Loss::CrossEntropy => format!(
            "the probability of each class, in the order of {}_class_names",
            s.name
        ),
        Loss::BinaryCrossEntropy => format!(
            "the probabilities of class {} and class {} ({}_class_names), summing to 1",
            comment_safe(&s.classes[0]),
            comment_safe(&s.classes[1]),
            s.name
        ),
        Loss::MeanSquaredError => format!(
            "the predicted value of each target{}, in the targets' own units",
            if s.targets.is_empty() {
                String::new()
            } else {
                format!(" ({})", comment_safe(&s.targets.join(", ")))
            }
        ),
    }
}

/// The header `NAME.h`.
pub fn header(s: &Summary) -> String {
    let (n, m) = (s.name.as_str(), s.name.to_ascii_uppercase());
    let mut h = String::new();
    let _ = write!(
        h,
        "/* {n}.h: the network `{network}`, trained and built by dlc.
 *
 * Link:   {link}
 *         The object calls nothing but {calls}.
 * CPU:    x86-64, built for `{cpu}`: it runs on processors with the
 *         instruction set extensions of that target.
 * Threads: every function is reentrant. The weights are read-only data and
 *         each call works in its own workspace (malloc'd by {n}_predict and
 *         {n}_logits; the caller's for the _ws forms, one per concurrent
 *         call), so any number of threads may call at once.
 *
 * Input:  {m}_INPUTS floats per sample, samples one after another: the raw
 *         feature values as in the training data, before any scaling or
 *         standardisation (the object does those as training did).
 *         {missing}
 * Output: {m}_OUTPUTS floats per sample from {n}_predict: {output}.
 *         {n}_logits writes the network's {m}_LOGITS raw outputs instead.
 * Return: {m}_OK (0), or a negative {m}_E* code below; nothing is written
 *         to `out` past the samples done before an error.
 */
#ifndef {m}_H
#define {m}_H

#include <stddef.h>

#ifdef __cplusplus
extern \"C\" {{
#endif

#define {m}_INPUTS {inputs}
#define {m}_OUTPUTS {outputs}
#define {m}_LOGITS {logits}
/* Samples the object computes at once; larger calls run in chunks. */
#define {m}_CHUNK {chunk}

#define {m}_OK 0
/* `n` so large that n * {m}_INPUTS floats cannot be addressed. */
#define {m}_EBATCH (-1)
/* `x`, `out` or the workspace is NULL (with n > 0). */
#define {m}_ENULL (-2)
/* A missing value (NaN) in `x`, and the model was trained without `impute`. */
#define {m}_EMISSING (-3)
/* malloc could not provide the workspace. */
#define {m}_ENOMEM (-4)
/* The workspace given to a _ws function is not aligned to 16 bytes. */
#define {m}_EALIGN (-5)

",
        network = comment_safe(&s.network),
        link = link_line(n, &s.undefined),
        calls = calls(&s.undefined),
        cpu = comment_safe(&s.cpu),
        missing = if s.imputes {
            "A missing value (NaN) is filled as in training (`impute`)."
        } else {
            "A missing value (NaN) is an error: the model was trained without `impute`."
        },
        output = output_text(s),
        inputs = s.inputs,
        outputs = s.outputs,
        logits = s.logits,
        chunk = s.max_batch,
    );
    if !s.classes.is_empty() {
        let _ = writeln!(h, "#define {m}_CLASSES {}", s.classes.len());
        names_array(
            &mut h,
            &format!("{n}_class_names"),
            &format!("{m}_CLASSES"),
            &s.classes,
        );
        h.push('\n');
    }
    if s.features.len() == s.inputs {
        h.push_str("/* The input's values, in order. */\n");
        names_array(
            &mut h,
            &format!("{n}_feature_names"),
            &format!("{m}_INPUTS"),
            &s.features,
        );
        h.push('\n');
    }
    let _ = write!(
        h,
        "/* Predicts `n` samples: `x` holds n * {m}_INPUTS floats, `out` receives
 * n * {m}_OUTPUTS. n = 0 does nothing and returns {m}_OK. */
int {n}_predict(const float *x, size_t n, float *out);

/* The network's raw outputs: `out` receives n * {m}_LOGITS floats. */
int {n}_logits(const float *x, size_t n, float *out);

/* As above, in a workspace the caller provides (no allocation): at least
 * {n}_workspace_size(n) bytes, {ws1} for one sample and {wsn} for more,
 * aligned to 16 bytes (as malloc's are). */
int {n}_predict_ws(const float *x, size_t n, float *out, void *workspace);
int {n}_logits_ws(const float *x, size_t n, float *out, void *workspace);
size_t {n}_workspace_size(size_t n);

#ifdef __cplusplus
}}
#endif

#endif /* {m}_H */
",
        ws1 = s.workspace[0],
        wsn = s.workspace[1],
    );
    h
}

/// `README.txt`: the link line and an example program.
pub fn readme(s: &Summary) -> String {
    let (n, m) = (s.name.as_str(), s.name.to_ascii_uppercase());
    let report = match s.loss {
        Loss::MeanSquaredError => format!(
            "    for (int j = 0; j < {m}_OUTPUTS; j++) printf(\"%g \", out[j]);\n    printf(\"\\n\");"
        ),
        _ => format!(
            "    int best = 0;\n    for (int j = 1; j < {m}_OUTPUTS; j++) if (out[j] > out[best]) best = j;\n    printf(\"%s (p = %.3f)\\n\", {n}_class_names[best], out[best]);"
        ),
    };
    format!(
        "{n}: the network `{network}` trained by dlc, as an object file and a C header.

Files
  {n}.o       the evaluation-mode network, its weights and the input preparation
  {n}.h       the functions, sizes, names and return codes (read its top comment)

Link
  {link}

Example (main.c)
#include <stdio.h>
#include \"{n}.h\"

int main(void) {{
    float x[{m}_INPUTS] = {{0}};   /* one sample's raw feature values */
    float out[{m}_OUTPUTS];
    if ({n}_predict(x, 1, out) != {m}_OK) return 1;
{report}
    return 0;
}}
",
        network = s.network,
        link = link_line(n, &s.undefined),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_cannot_prefix_c_identifiers_are_refused() {
        assert!(is_c_identifier("net"));
        assert!(is_c_identifier("_digits_cnn2"));
        for bad in ["", "2net", "my-net", "int", "café", "a b"] {
            assert!(!is_c_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn strings_are_escaped_for_c() {
        assert_eq!(c_string("plain"), "\"plain\"");
        assert_eq!(c_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(c_string("é1"), "\"\\303\\2511\"");
        assert_eq!(c_string("??="), "\"\\?\\?=\"");
        assert_eq!(comment_safe("x */ y\n"), "x * / y ");
    }
}
