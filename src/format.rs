//! One voice for every page: order statuses, counts and dates say the same thing the same way everywhere
//! (money is `Cents`' `Display`: "$12.50").
//!
//! Invariant: dates are shown in the browser's locale and time zone (`Intl`, through `js_sys`, on wasm); the
//! parsing and the fallback used natively (UTC, English) are pure and tested here. Unreadable text is shown
//! as it came.

use protocol::OrderStatus;

/// An order status as people read it, on every page.
pub fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Pending => "Pending",
        OrderStatus::Paid => "Paid",
        OrderStatus::Shipped => "Shipped",
        OrderStatus::Delivered => "Delivered",
        OrderStatus::Cancelled => "Cancelled",
    }
}

/// "1 order", "3 orders".
pub fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// A moment as a short date and time ("Nov 27, 10:05" in English, in the browser's time zone).
pub fn date_time(rfc3339: &str) -> String {
    local(rfc3339, true).unwrap_or_else(|| rfc3339.to_owned())
}

/// A moment's day ("Nov 27, 2026" in English, in the browser's time zone).
pub fn date(rfc3339: &str) -> String {
    local(rfc3339, false).unwrap_or_else(|| rfc3339.to_owned())
}

/// The parts of an RFC 3339 UTC timestamp: year, month (1–12), day, `HH:MM`.
fn parts(rfc3339: &str) -> Option<(&str, usize, u32, &str)> {
    let (date, time) = rfc3339.split_once('T')?;
    let mut fields = date.split('-');
    let (year, month, day) = (fields.next()?, fields.next()?, fields.next()?);
    let month: usize = month.parse().ok().filter(|m| (1..=12).contains(m))?;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let hhmm = time.get(..5).filter(|t| t.as_bytes().get(2) == Some(&b':'))?;
    (year.len() == 4).then_some((year, month, day, hhmm))
}

/// The fallback: English, UTC.
fn utc_text(rfc3339: &str, with_time: bool) -> Option<String> {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let (year, month, day, hhmm) = parts(rfc3339)?;
    let name = MONTHS[month - 1];
    Some(if with_time { format!("{name} {day}, {hhmm}") } else { format!("{name} {day}, {year}") })
}

#[cfg(target_arch = "wasm32")]
fn local(rfc3339: &str, with_time: bool) -> Option<String> {
    use wasm_bindgen::JsValue;
    parts(rfc3339)?;
    let moment = js_sys::Date::new(&JsValue::from_str(rfc3339));
    if moment.get_time().is_nan() {
        return None;
    }
    let options = js_sys::Object::new();
    let set = |key: &str, value: &str| js_sys::Reflect::set(&options, &key.into(), &value.into()).is_ok();
    let mut ok = set("month", "short") && set("day", "numeric");
    ok &= if with_time { set("hour", "2-digit") && set("minute", "2-digit") } else { set("year", "numeric") };
    let locale = web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "en-US".to_owned());
    match ok {
        true => Some(String::from(moment.to_locale_string(&locale, &options))),
        false => utc_text(rfc3339, with_time),
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn local(rfc3339: &str, with_time: bool) -> Option<String> {
    utc_text(rfc3339, with_time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_read_the_same_everywhere() {
        let labels: Vec<&str> = OrderStatus::ALL.into_iter().map(status_label).collect();
        assert_eq!(labels, ["Pending", "Paid", "Shipped", "Delivered", "Cancelled"]);
    }

    #[test]
    fn counts_are_pluralized() {
        assert_eq!(plural(1, "order", "orders"), "1 order");
        assert_eq!(plural(0, "order", "orders"), "0 orders");
        assert_eq!(plural(3, "item", "items"), "3 items");
    }

    #[test]
    fn dates_are_short_and_bad_ones_pass_through() {
        assert_eq!(date_time("2026-11-27T10:05:09Z"), "Nov 27, 10:05");
        assert_eq!(date_time("2026-01-03T00:00:00Z"), "Jan 3, 00:00");
        assert_eq!(date("2026-11-27T10:05:09Z"), "Nov 27, 2026");
        for bad in ["2026-13-03T00:00:00Z", "yesterday", "", "2026-11-27", "2026-11-27T1"] {
            assert_eq!(date_time(bad), bad);
            assert_eq!(date(bad), bad);
        }
    }
}
