//! Turning text into a checked [`Config`].

use std::path::Path;

use super::{Config, ConfigError, validate};

impl Config {
    /// Reads, parses and checks a configuration file. Relative TLS paths are resolved against
    /// the file's folder, and the file is remembered as [`Config::source`] for reloads.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = parse(&text)?;
        let folder = path.parent().unwrap_or_else(|| Path::new("."));
        for file in [
            &mut config.sip.tls_cert,
            &mut config.sip.tls_key,
            &mut config.sip.tls_ca,
            &mut config.meet.gateway_key,
            &mut config.meet.gateway_token,
        ]
        .into_iter()
        .flatten()
        {
            if file.is_relative() {
                *file = folder.join(&*file);
            }
        }
        validate::check(&config)?;
        config.source = Some(path.to_owned());
        Ok(config)
    }

    /// Parses and checks configuration text. Relative TLS paths stay relative to the working
    /// directory.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config = parse(text)?;
        validate::check(&config)?;
        Ok(config)
    }

    /// The effective configuration as TOML, every default filled in.
    pub fn to_toml(&self) -> String {
        // Serialising plain structs of strings, numbers and arrays cannot fail.
        toml::to_string(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    let deserializer =
        toml::Deserializer::parse(text).map_err(|e| syntax_error(text, e.span(), e.message()))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let message = inner.message();
        if let Some(unknown) = message
            .strip_prefix("unknown field `")
            .and_then(|rest| rest.split('`').next())
        {
            // A key that is not a TOML bare key (empty, spaces, dots...) is shown quoted, so
            // the message names it unambiguously.
            let shown = if !unknown.is_empty()
                && unknown
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                unknown.to_owned()
            } else {
                format!("{unknown:?}")
            };
            // serde_path_to_error already ends the path with the unknown key: replace it.
            let parent = if key == "." || key == unknown {
                ""
            } else {
                key.strip_suffix(&format!(".{unknown}")).unwrap_or(&key)
            };
            let key = if parent.is_empty() {
                shown
            } else {
                format!("{parent}.{shown}")
            };
            let section = if key.contains('.') {
                "this section"
            } else {
                "the file"
            };
            let expected = message.split_once(", ").map_or("", |(_, rest)| rest);
            return ConfigError::invalid(key, format!("unknown key in {section} ({expected})"));
        }
        if key == "." {
            return syntax_error(text, inner.span(), message);
        }
        ConfigError::invalid(name_items(&key, text), message.to_owned())
    })
}

/// Arrays of named tables, whose items an error should call by name rather than by index.
const NAMED_ARRAYS: [&str; 4] = [
    "routing.rules",
    "routing.virtual_receptions",
    "routing.otj_rules",
    "meet.access_tokens",
];

/// `routing.rules[3].source[0]` → `routing.rules[meet-trusted].source[0]` when item 3 has a
/// `name`. The text already parsed as TOML, so reading it again as a table cannot fail in
/// practice; if it does, the index form is kept.
fn name_items(key: &str, text: &str) -> String {
    let Some(array) = NAMED_ARRAYS
        .iter()
        .find(|a| key.starts_with(&format!("{a}[")))
    else {
        return key.to_owned();
    };
    let rest = &key[array.len() + 1..];
    let Some((index, after)) = rest.split_once(']') else {
        return key.to_owned();
    };
    let name = index.parse::<usize>().ok().and_then(|index| {
        let table: toml::Table = text.parse().ok()?;
        let (section, field) = array.split_once('.')?;
        let item = table.get(section)?.get(field)?.get(index)?;
        item.get("name")?.as_str().map(str::to_owned)
    });
    match name {
        Some(name) => format!("{array}[{name}]{after}"),
        None => key.to_owned(),
    }
}

fn syntax_error(text: &str, span: Option<std::ops::Range<usize>>, message: &str) -> ConfigError {
    let offset = span.map_or(0, |s| s.start.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    ConfigError::Syntax {
        line,
        column,
        message: message.trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::PortRange;

    #[test]
    fn empty_text_is_the_defaults() {
        assert_eq!(Config::from_toml_str("").unwrap(), Config::default());
    }

    #[test]
    fn values_override_defaults_and_print_back() {
        let config = Config::from_toml_str(
            "[node]\nname = \"edge-7\"\ndrain_timeout = \"2m 5s\"\n\
             [media]\nport_range = [20000, 20999]\n",
        )
        .unwrap();
        assert_eq!(config.node.name, "edge-7");
        assert_eq!(config.node.drain_timeout, Duration::from_secs(125));
        assert_eq!(config.media.port_range, PortRange::new(20_000, 20_999));
        let again = Config::from_toml_str(&config.to_toml()).unwrap();
        assert_eq!(again, config);
    }

    #[test]
    fn unknown_keys_are_named_with_their_path() {
        let err = Config::from_toml_str("[media]\nport_rnage = [1, 2]\n").unwrap_err();
        assert_eq!(err.key(), Some("media.port_rnage"));
        assert!(err.to_string().contains("`port_range`"), "{err}");
        let err = Config::from_toml_str("[medai]\n").unwrap_err();
        assert_eq!(err.key(), Some("medai"));
        // Found by fuzzing: an empty quoted key used to give an empty key path.
        let err = Config::from_toml_str("\"\" = -5\n").unwrap_err();
        assert_eq!(err.key(), Some("\"\""), "{err}");
        let err = Config::from_toml_str("[node]\n\"a b\" = 1\n").unwrap_err();
        assert_eq!(err.key(), Some("node.\"a b\""), "{err}");
    }

    #[test]
    fn wrong_types_name_the_key() {
        let err = Config::from_toml_str("[node]\nname = 5\n").unwrap_err();
        assert_eq!(err.key(), Some("node.name"), "{err}");
        let err = Config::from_toml_str("[media]\nport_range = [50000, 40000]\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "media.port_range: start 50000 is greater than end 40000"
        );
    }

    #[test]
    fn media_timeouts_out_of_range_name_their_key() {
        let config =
            Config::from_toml_str("[media]\nrtp_timeout = \"0s\"\nmeet_timeout = \"5s\"\n")
                .unwrap();
        assert_eq!(config.media.rtp_timeout, Duration::ZERO);
        assert_eq!(config.media.meet_timeout, Duration::from_secs(5));
        let err = Config::from_toml_str("[media]\nrtp_timeout = \"2h\"\n").unwrap_err();
        assert_eq!(err.key(), Some("media.rtp_timeout"), "{err}");
        let err = Config::from_toml_str("[media]\nmeet_timeout = \"500ms\"\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "media.meet_timeout: 500ms is outside 1s to 60s"
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = Config::from_toml_str("[node]\nname = \"a\"\nname = = 3\n").unwrap_err();
        let ConfigError::Syntax { line, .. } = err else {
            panic!("expected a syntax error, got {err}");
        };
        assert_eq!(line, 3);
    }
}
