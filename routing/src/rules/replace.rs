//! Replacement strings: the operator's `\1` / `\g<name>` (Pexip and Python style) or `$1` /
//! `${name}` (Rust `regex` style), turned once, at load, into a `regex` template whose group
//! references are all known to exist.

use regex::Regex;

/// A checked replacement template in `regex`'s `${…}` syntax.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Replacement {
    template: String,
}

impl Replacement {
    /// Translates `text` for `pattern`. Errors name the unknown group or the bad syntax.
    pub(crate) fn compile(text: &str, pattern: &Regex) -> Result<Self, String> {
        let mut template = String::with_capacity(text.len() + 8);
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.peek().copied() {
                    Some(d) if d.is_ascii_digit() => {
                        group(&mut template, &take_digits(&mut chars), pattern)?;
                    }
                    Some('g') => {
                        chars.next();
                        if chars.next() != Some('<') {
                            return Err("`\\g` must be followed by `<name>`".to_owned());
                        }
                        let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
                        group(&mut template, &name, pattern)?;
                    }
                    Some('\\') => {
                        chars.next();
                        template.push('\\');
                    }
                    _ => template.push('\\'),
                },
                '$' => match chars.peek().copied() {
                    Some('$') => {
                        chars.next();
                        template.push_str("$$");
                    }
                    Some('{') => {
                        chars.next();
                        let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                        group(&mut template, &name, pattern)?;
                    }
                    Some(d) if d.is_ascii_digit() => {
                        group(&mut template, &take_digits(&mut chars), pattern)?;
                    }
                    _ => {
                        return Err("a literal `$` must be written `$$`".to_owned());
                    }
                },
                other => template.push(other),
            }
        }
        Ok(Self { template })
    }

    /// Applies the template to the match of `pattern` in `text` (a full match, checked by the
    /// caller).
    pub(crate) fn apply(&self, pattern: &Regex, text: &str) -> String {
        match pattern.captures(text) {
            Some(captures) => {
                let mut out = String::new();
                captures.expand(&self.template, &mut out);
                out
            }
            None => text.to_owned(),
        }
    }
}

/// Consumes the run of ASCII digits at the front of `chars`.
fn take_digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut number = String::new();
    while let Some(d) = chars.next_if(char::is_ascii_digit) {
        number.push(d);
    }
    number
}

/// Appends `${group}` after checking that `pattern` has that group.
fn group(template: &mut String, group: &str, pattern: &Regex) -> Result<(), String> {
    let known = match group.parse::<usize>() {
        Ok(index) => index < pattern.captures_len(),
        Err(_) => !group.is_empty() && pattern.capture_names().flatten().any(|n| n == group),
    };
    if !known {
        let groups = pattern.captures_len() - 1;
        return Err(format!(
            "refers to group `{group}`, but the match pattern has {groups} numbered group{} {}",
            if groups == 1 { "" } else { "s" },
            named_list(pattern)
        ));
    }
    template.push_str("${");
    template.push_str(group);
    template.push('}');
    Ok(())
}

fn named_list(pattern: &Regex) -> String {
    let names: Vec<&str> = pattern.capture_names().flatten().collect();
    if names.is_empty() {
        "and no named groups".to_owned()
    } else {
        format!("and named groups {}", names.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewrite(pattern: &str, replace: &str, text: &str) -> Result<String, String> {
        let re = Regex::new(&format!("^(?:{pattern})$")).unwrap();
        Ok(Replacement::compile(replace, &re)?.apply(&re, text))
    }

    #[test]
    fn both_syntaxes() {
        let p = r"(\d{13})@(?P<domain>.+)";
        let t = "1234567890123@example.com";
        assert_eq!(rewrite(p, r"\1", t).unwrap(), "1234567890123");
        assert_eq!(rewrite(p, "$1", t).unwrap(), "1234567890123");
        assert_eq!(
            rewrite(p, r"\g<domain>/\1", t).unwrap(),
            "example.com/1234567890123"
        );
        assert_eq!(
            rewrite(p, "${domain}:${1}", t).unwrap(),
            "example.com:1234567890123"
        );
        assert_eq!(rewrite(p, r"\g<2>", t).unwrap(), "example.com");
        assert_eq!(rewrite(p, "cost$$1", t).unwrap(), "cost$1");
        assert_eq!(rewrite(p, r"a\\b", t).unwrap(), r"a\b");
        // `\1` directly followed by letters keeps them apart (no `$1abc` group confusion)
        assert_eq!(rewrite(p, r"\1abc", t).unwrap(), "1234567890123abc");
    }

    #[test]
    fn unknown_groups_are_refused() {
        let p = r"(\d+)@example\.com";
        assert_eq!(
            rewrite(p, r"\2", "1@example.com").unwrap_err(),
            "refers to group `2`, but the match pattern has 1 numbered group and no named groups"
        );
        assert!(rewrite(p, r"\g<room>", "1@example.com").is_err());
        assert!(rewrite(p, "${room}", "1@example.com").is_err());
        assert!(rewrite(p, "$", "1@example.com").is_err());
        assert!(rewrite(p, r"\gx", "1@example.com").is_err());
    }
}
