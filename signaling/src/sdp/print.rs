//! Printing a [`SessionDescription`] as SDP text: CRLF line ends and the line order of RFC 8866
//! §5 (`v o s i u e p c b t r z k a`, then per media `m i c b k a`).

use std::fmt;

use super::session::{
    Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription,
};

impl fmt::Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v=0\r\n{}\r\n", LineOf('o', &self.origin))?;
        // RFC 8866 §5.3: "If a session has no meaningful name, then "s= " SHOULD be used".
        let name = if self.session_name.is_empty() {
            " "
        } else {
            &self.session_name
        };
        write!(f, "s={name}\r\n")?;
        optional(f, 'i', self.information.as_deref())?;
        optional(f, 'u', self.uri.as_deref())?;
        for email in &self.emails {
            write!(f, "e={email}\r\n")?;
        }
        for phone in &self.phones {
            write!(f, "p={phone}\r\n")?;
        }
        if let Some(connection) = &self.connection {
            write!(f, "{}\r\n", LineOf('c', connection))?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "{}\r\n", LineOf('b', bandwidth))?;
        }
        if self.timing.is_empty() {
            // RFC 8866 §5.9: at least one t= line; "t=0 0" is a permanent session.
            f.write_str("t=0 0\r\n")?;
        }
        for timing in &self.timing {
            write!(f, "t={} {}\r\n", timing.start, timing.stop)?;
            for repeat in &timing.repeats {
                write!(f, "r={repeat}\r\n")?;
            }
        }
        optional(f, 'z', self.time_zones.as_deref())?;
        optional(f, 'k', self.key.as_deref())?;
        for attribute in &self.attributes {
            write!(f, "{}\r\n", LineOf('a', attribute))?;
        }
        for media in &self.media {
            write!(f, "{media}")?;
        }
        Ok(())
    }
}

/// The `m=` line and the lines of the section, each ending in CRLF.
impl fmt::Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m={} {}", self.media, self.port)?;
        if let Some(count) = self.port_count {
            write!(f, "/{count}")?;
        }
        write!(f, " {}", self.protocol)?;
        for format in &self.formats {
            write!(f, " {format}")?;
        }
        f.write_str("\r\n")?;
        optional(f, 'i', self.title.as_deref())?;
        if let Some(connection) = &self.connection {
            write!(f, "{}\r\n", LineOf('c', connection))?;
        }
        for bandwidth in &self.bandwidths {
            write!(f, "{}\r\n", LineOf('b', bandwidth))?;
        }
        optional(f, 'k', self.key.as_deref())?;
        for attribute in &self.attributes {
            write!(f, "{}\r\n", LineOf('a', attribute))?;
        }
        Ok(())
    }
}

/// The value of an `o=` line, without `o=`.
impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            self.username,
            self.session_id,
            self.session_version,
            self.net_type,
            self.addr_type,
            self.address
        )
    }
}

/// The value of a `c=` line, without `c=`.
impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.net_type, self.addr_type, self.address)
    }
}

/// The value of a `b=` line, without `b=`.
impl fmt::Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind, self.value)
    }
}

/// The value of an `a=` line, without `a=`.
impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}:{value}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// `<kind>=<value>` without the line end.
struct LineOf<'a, T>(char, &'a T);

impl<T: fmt::Display> fmt::Display for LineOf<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.0, self.1)
    }
}

fn optional(f: &mut fmt::Formatter<'_>, kind: char, value: Option<&str>) -> fmt::Result {
    match value {
        Some(value) => write!(f, "{kind}={value}\r\n"),
        None => Ok(()),
    }
}
