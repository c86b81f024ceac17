//! Just enough YAML to print Kubernetes manifests: an ordered tree of maps,
//! lists and scalars, written in block style with keys in the order given
//! (`kind` before `spec`, as people write them). Strings that YAML could
//! read as something else are double-quoted (JSON's escapes are YAML's);
//! text of several lines is a literal block.

use std::fmt::Write as _;

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum Yaml {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A sequence.
    List(Vec<Yaml>),
    /// A mapping, in this order.
    Map(Vec<(String, Yaml)>),
}

/// A mapping from `(key, value)` pairs, in order.
pub fn map<const N: usize>(entries: [(&str, Yaml); N]) -> Yaml {
    Yaml::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// A string.
pub fn s(text: impl Into<String>) -> Yaml {
    Yaml::Str(text.into())
}

impl From<i64> for Yaml {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<bool> for Yaml {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Vec<Yaml>> for Yaml {
    fn from(items: Vec<Yaml>) -> Self {
        Self::List(items)
    }
}

impl Yaml {
    /// This value as one document, ending in a newline.
    pub fn document(&self) -> String {
        let mut out = String::new();
        match self {
            Self::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0),
            Self::List(items) if !items.is_empty() => write_list(&mut out, items, 0),
            scalar => {
                out.push_str(&inline(scalar, 0));
                out.push('\n');
            }
        }
        out
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

fn write_map(out: &mut String, entries: &[(String, Yaml)], indent: usize) {
    for (i, (key, value)) in entries.iter().enumerate() {
        // The first key of a list item follows its dash.
        if i > 0 || !out.ends_with("- ") {
            pad(out, indent);
        }
        out.push_str(&quote(key));
        out.push(':');
        write_value(out, value, indent);
    }
}

fn write_list(out: &mut String, items: &[Yaml], indent: usize) {
    for item in items {
        pad(out, indent);
        out.push_str("- ");
        match item {
            Yaml::Map(entries) if !entries.is_empty() => write_map(out, entries, indent + 2),
            Yaml::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_list(out, inner, indent + 2);
            }
            scalar => {
                out.push_str(&inline(scalar, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// A mapping's value after its `key:`.
fn write_value(out: &mut String, value: &Yaml, indent: usize) {
    match value {
        Yaml::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_map(out, entries, indent + 2);
        }
        Yaml::List(items) if !items.is_empty() => {
            out.push('\n');
            write_list(out, items, indent + 2);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar, indent + 2));
            out.push('\n');
        }
    }
}

/// A scalar (or an empty collection) on one line; a literal block for text
/// of several lines, its lines at `indent`.
fn inline(value: &Yaml, indent: usize) -> String {
    match value {
        Yaml::Str(text) if literal_block(text) => {
            let chomp = if text.ends_with('\n') { "" } else { "-" };
            let mut out = format!("|{chomp}");
            for line in text.split_terminator('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.extend(std::iter::repeat_n(' ', indent));
                    out.push_str(line);
                }
            }
            out
        }
        Yaml::Str(text) => quote(text),
        Yaml::Int(n) => n.to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::List(_) => "[]".into(),
        Yaml::Map(_) => "{}".into(),
    }
}

/// Whether `text` is written as a literal block: it has several lines, at
/// most one newline at its end, no line of spaces alone, a first line that
/// does not start with a space (whose indentation would need saying), and
/// only characters a block keeps as they are.
fn literal_block(text: &str) -> bool {
    text.contains('\n')
        && !text.starts_with(['\n', ' '])
        && !text.ends_with("\n\n")
        && text
            .chars()
            .all(|c| c == '\n' || c == '\t' || !(c.is_control() || c == '\u{feff}'))
        && !text
            .lines()
            .any(|line| line.trim_end().len() != line.len() && line.trim().is_empty())
}

/// `text` as a plain scalar where YAML reads it back as the same string,
/// else double-quoted.
pub fn quote(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nan" | "inf"
        );
    if plain {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_yaml_would_read_as_something_else_are_quoted() {
        for (text, written) in [
            ("web", "web"),
            ("/project/project.ron", "/project/project.ron"),
            ("true", "\"true\""),
            ("No", "\"No\""),
            ("8080", "\"8080\""),
            ("1e3", "\"1e3\""),
            ("", "\"\""),
            ("--rate", "\"--rate\""),
            ("a: b", "\"a: b\""),
            ("# not a comment", "\"# not a comment\""),
            ("say \"hi\"\\", "\"say \\\"hi\\\"\\\\\""),
            ("bell\u{7}", "\"bell\\u0007\""),
        ] {
            assert_eq!(quote(text), written, "{text:?}");
        }
    }

    #[test]
    fn documents_are_written_in_block_style_in_the_order_given() {
        let doc = map([
            ("kind", s("Job")),
            (
                "spec",
                map([
                    ("completions", 4.into()),
                    ("args", vec![s("load"), s("$(I)/4")].into()),
                    ("empty", Yaml::List(Vec::new())),
                    (
                        "containers",
                        vec![map([("name", s("a")), ("ok", true.into())])].into(),
                    ),
                ]),
            ),
            ("data", map([("f", s("line one\n  two\n\nthree\n"))])),
            ("tail", map([("g", s("no newline\nat the end"))])),
        ]);
        assert_eq!(
            doc.document(),
            "kind: Job\n\
             spec:\n\
             \x20 completions: 4\n\
             \x20 args:\n\
             \x20   - load\n\
             \x20   - \"$(I)/4\"\n\
             \x20 empty: []\n\
             \x20 containers:\n\
             \x20   - name: a\n\
             \x20     ok: true\n\
             data:\n\
             \x20 f: |\n\
             \x20   line one\n\
             \x20     two\n\
             \n\
             \x20   three\n\
             tail:\n\
             \x20 g: |-\n\
             \x20   no newline\n\
             \x20   at the end\n"
        );
    }

    #[test]
    fn text_a_literal_block_would_change_is_quoted_instead() {
        for text in [
            " leading space\nx",
            "two newlines\n\n",
            "tab\r\nreturn",
            "\nfirst",
        ] {
            assert!(!literal_block(text), "{text:?}");
            assert!(inline(&s(text), 2).starts_with('"'), "{text:?}");
        }
    }
}
