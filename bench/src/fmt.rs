//! How figures read in the report, and the anchors every part compares with.

/// One frame at 60 Hz, in ms.
pub const FRAME_MS: f64 = 1000.0 / 60.0;

/// A whole number with thousands separators (`12,345`); negative values read as 0.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `12.34 ms` below 100 ms, `123 ms` below 10 s, `12.3 s` above.
pub fn fmt_ms(ms: f64) -> String {
    if ms < 100.0 {
        format!("{ms:.2} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// KiB as MiB with one decimal.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// Bytes as MiB (or KiB when small).
pub fn mib_bytes(bytes: u64) -> String {
    if bytes < 1024 * 1024 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(7.0), "7");
        assert_eq!(thousands(1_000.0), "1,000");
        assert_eq!(thousands(1_234_567.4), "1,234,567");
        assert_eq!(thousands(-3.0), "0");
        assert_eq!(fmt_ms(4.256), "4.26 ms");
        assert_eq!(fmt_ms(250.4), "250 ms");
        assert_eq!(fmt_ms(15_000.0), "15.0 s");
        assert_eq!(mib(1536), "1.5 MiB");
        assert_eq!(mib_bytes(2048), "2.0 KiB");
        assert_eq!(mib_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
