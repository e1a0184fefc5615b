//! Time arguments of `px.DataFrame` and friends: relative (`'-5m'`),
//! absolute (RFC 3339 or `YYYY-MM-DD HH:MM:SS`), integer nanoseconds.
//! Relative times are resolved once, against the compilation's "now".

/// Parse a duration such as `5m`, `-30s`, `1h30m`, `250ms` into nanoseconds.
/// Units: ns, us (µs), ms, s, m, h, d.
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, mut rest) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if rest.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale: f64 = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "d" => 86400e9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add((number * scale).round() as i64)?;
    }
    Some(if neg { -total } else { total })
}

/// Parse an absolute time: RFC 3339 (`2024-01-02T03:04:05.123Z`, offsets
/// allowed) or `YYYY-MM-DD[ HH:MM[:SS[.frac]]]` taken as UTC.
pub fn parse_absolute(text: &str) -> Option<i64> {
    let t = text.trim();
    let (date, rest) = t.split_at(t.find(['T', ' ']).unwrap_or(t.len()));
    let mut d = date.split('-');
    let year: i64 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut rest = rest.get(1..).unwrap_or("");
    let mut offset_secs: i64 = 0;
    if let Some(r) = rest.strip_suffix(['Z', 'z']) {
        rest = r;
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (clock, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (h, m) = off
            .split_once(':')
            .unwrap_or((off.get(..2)?, off.get(2..).unwrap_or("0")));
        offset_secs = sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60);
        rest = clock;
    }
    let mut secs_of_day: i64 = 0;
    let mut nanos: i64 = 0;
    if !rest.is_empty() {
        let mut parts = rest.split(':');
        let h: i64 = parts.next()?.parse().ok()?;
        let m: i64 = parts.next().unwrap_or("0").parse().ok()?;
        let s = parts.next().unwrap_or("0");
        let (s, frac) = s.split_once('.').unwrap_or((s, ""));
        let s: i64 = s.parse().ok()?;
        if !frac.is_empty() {
            let digits: String = frac.chars().take(9).collect();
            nanos = format!("{digits:0<9}").parse().ok()?;
        }
        secs_of_day = h * 3600 + m * 60 + s;
    }
    let days = days_from_civil(year, month, day);
    Some((days * 86400 + secs_of_day - offset_secs) * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// RFC 3339 with nanoseconds, UTC: `2024-01-02T03:04:05.000000123Z`.
pub fn format_rfc3339(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("-5m"), Some(-300_000_000_000));
        assert_eq!(parse_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_duration("250ms"), Some(250_000_000));
        assert_eq!(parse_duration("2d"), Some(172_800_000_000_000));
        assert_eq!(parse_duration("5x"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn absolute_times_round_trip() {
        let t = parse_absolute("2024-03-05T06:07:08.123456789Z").unwrap();
        assert_eq!(format_rfc3339(t), "2024-03-05T06:07:08.123456789Z");
        assert_eq!(parse_absolute("1970-01-01 00:00:01"), Some(1_000_000_000));
        assert_eq!(
            parse_absolute("2024-03-05T08:07:08+02:00"),
            parse_absolute("2024-03-05T06:07:08Z")
        );
        assert_eq!(parse_absolute("yesterday"), None);
    }
}
