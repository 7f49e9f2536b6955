//! Date values (RFC 3261 §20.17, §25.1 `SIP-date`): RFC 1123 dates in GMT only.

/// Checks `rfc1123-date = wkday "," SP date1 SP time SP "GMT"` with
/// `date1 = 2DIGIT SP month SP 4DIGIT` and `time = 2DIGIT ":" 2DIGIT ":" 2DIGIT`. Any other
/// time zone makes the value invalid (RFC 4475 §3.1.2.12 `baddate`).
pub(crate) fn check_date(value: &str) -> Result<(), String> {
    const WKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let err = || format!("Date {value:?} is not an RFC 1123 date in GMT");
    let (wkday, rest) = value.split_once(", ").ok_or_else(err)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, zone] = fields.as_slice() else {
        return Err(err());
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let time_ok = {
        let parts: Vec<&str> = time.split(':').collect();
        parts.len() == 3 && parts.iter().all(|p| digits(p, 2))
    };
    let ok = WKDAYS.iter().any(|w| w.eq_ignore_ascii_case(wkday))
        && digits(day, 2)
        && MONTHS.iter().any(|m| m.eq_ignore_ascii_case(month))
        && digits(year, 4)
        && time_ok
        && zone.eq_ignore_ascii_case("GMT");
    if ok { Ok(()) } else { Err(err()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(check_date("Sat, 15 Oct 2005 04:44:56 GMT").is_ok());
        assert!(check_date("Fri, 01 Jan 2010 16:00:00 EST").is_err());
        assert!(check_date("Sat, 15 Oct 2005 04:44 GMT").is_err());
        assert!(check_date("15 Oct 2005 04:44:56 GMT").is_err());
    }
}
