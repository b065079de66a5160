//! The revenue chart: daily revenue as bars in an inline SVG, with a dollar axis and date labels, drawn from
//! data only (no script library).
//!
//! Invariant: the geometry and the spoken summary are pure ([`chart_geometry`], [`nice_ceiling`],
//! [`chart_summary`]) and tested natively; money stays integer cents until a pixel position is computed.

use leptos::prelude::*;
use protocol::{Cents, DayRevenue};

/// The drawing's coordinate box (the SVG scales to its container).
pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 240.0;
/// Room for the dollar labels on the left and the dates below.
const LEFT: f64 = 64.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;
/// Space between bars, as a share of a day's slot.
const GAP: f64 = 0.2;

/// One day's bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The day's `YYYY-MM-DD` and figures, for the bar's tooltip.
    pub date: String,
    pub revenue: Cents,
    pub orders: u64,
}

/// A label on an axis at a position (y for the dollar axis, x for dates).
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// Everything the chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartGeometry {
    pub bars: Vec<Bar>,
    /// Dollar gridlines: zero, half the scale, the scale.
    pub y_ticks: Vec<Tick>,
    /// Dates under the first, middle and last bars.
    pub x_ticks: Vec<Tick>,
    /// The top of the scale.
    pub scale: Cents,
    /// The y of the zero line.
    pub baseline: f64,
}

/// The smallest "round" amount (1, 2 or 5 times a power of ten, in cents) at or above `cents`, and at least
/// one dollar, so the axis reads well and the tallest bar fits.
pub fn nice_ceiling(cents: Cents) -> Cents {
    let target = cents.0.max(100);
    let mut power: i64 = 1;
    loop {
        for step in [1, 2, 5] {
            if let Some(candidate) = power.checked_mul(step)
                && candidate >= target
            {
                return Cents(candidate);
            }
        }
        match power.checked_mul(10) {
            Some(next) => power = next,
            None => return Cents(target),
        }
    }
}

/// An axis label: whole dollars without the cents when there are none (`$1,200`, `$0.50`).
pub fn axis_label(cents: Cents) -> String {
    let text = cents.to_string();
    text.strip_suffix(".00").map(str::to_owned).unwrap_or(text)
}

/// A date label: `2026-11-27` → `11-27` (the year is in the summary).
fn short_date(date: &str) -> String {
    date.get(5..).unwrap_or(date).to_owned()
}

/// Lays out `days` (oldest first) as bars in the [`WIDTH`] × [`HEIGHT`] box.
pub fn chart_geometry(days: &[DayRevenue]) -> ChartGeometry {
    let peak = days.iter().map(|d| d.revenue_cents).max().unwrap_or_default();
    let scale = nice_ceiling(peak);
    let plot_width = WIDTH - LEFT - RIGHT;
    let plot_height = HEIGHT - TOP - BOTTOM;
    let baseline = TOP + plot_height;
    let slot = plot_width / days.len().max(1) as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, day)| {
            // Negative revenue cannot happen (cancelled orders are excluded); clamp so a bad value draws nothing.
            let share = day.revenue_cents.0.max(0) as f64 / scale.0 as f64;
            let height = plot_height * share.min(1.0);
            Bar {
                x: LEFT + slot * i as f64 + slot * GAP / 2.0,
                y: baseline - height,
                width: slot * (1.0 - GAP),
                height,
                date: day.date.clone(),
                revenue: day.revenue_cents,
                orders: day.orders,
            }
        })
        .collect::<Vec<_>>();
    let y_ticks = [0, scale.0 / 2, scale.0]
        .into_iter()
        .map(|cents| Tick {
            at: baseline - plot_height * (cents as f64 / scale.0 as f64),
            label: axis_label(Cents(cents)),
        })
        .collect();
    let mut picks = vec![0, days.len() / 2, days.len().saturating_sub(1)];
    picks.dedup();
    let x_ticks = if days.is_empty() {
        Vec::new()
    } else {
        picks
            .into_iter()
            .map(|i| Tick { at: LEFT + slot * (i as f64 + 0.5), label: short_date(&days[i].date) })
            .collect()
    };
    ChartGeometry { bars, y_ticks, x_ticks, scale, baseline }
}

/// What the chart shows, in one sentence for screen readers (the SVG's `aria-label`).
pub fn chart_summary(days: &[DayRevenue]) -> String {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return "Revenue by day: no data yet.".into();
    };
    let total: Cents = days.iter().map(|d| d.revenue_cents).sum();
    let orders: u64 = days.iter().map(|d| d.orders).sum();
    let plural = if orders == 1 { "" } else { "s" };
    let period = match days.len() {
        1 => format!("on {}", first.date),
        n => format!("over the last {n} days, {} to {}", first.date, last.date),
    };
    let mut text = format!("Revenue by day {period}: {total} from {orders} order{plural}");
    // The first of the best days, so the sentence is stable.
    let best = days.iter().rev().max_by_key(|d| d.revenue_cents).filter(|d| d.revenue_cents.0 > 0);
    match best {
        Some(best) => text.push_str(&format!("; best day {} with {}.", best.date, best.revenue_cents)),
        None => text.push('.'),
    }
    text
}

/// The chart of daily revenue.
#[component]
pub fn RevenueChart(
    /// The days to draw, oldest first (the dashboard's `revenue_by_day`).
    #[prop(into)]
    days: Signal<Vec<DayRevenue>>,
) -> impl IntoView {
    let geometry = Memo::new(move |_| days.with(|d| chart_geometry(d)));
    let summary = move || days.with(|d| chart_summary(d));
    let view_box = format!("0 0 {WIDTH} {HEIGHT}");
    view! {
        <svg
            class="revenue-chart"
            viewBox=view_box
            role="img"
            aria-label=summary
            data-testid="owner-revenue-chart"
        >
            {move || {
                let g = geometry.get();
                let grid = g
                    .y_ticks
                    .into_iter()
                    .map(|tick| {
                        view! {
                            <line class="grid" x1=LEFT x2=WIDTH - RIGHT y1=tick.at y2=tick.at></line>
                            <text class="axis-label" x=LEFT - 6.0 y=tick.at + 4.0 text-anchor="end">
                                {tick.label}
                            </text>
                        }
                    })
                    .collect_view();
                // The first and last dates lean inwards, so a large label (on a phone) is not cut at the edge.
                let last = g.x_ticks.len().saturating_sub(1);
                let dates = g
                    .x_ticks
                    .into_iter()
                    .enumerate()
                    .map(|(i, tick)| {
                        let anchor = match i {
                            0 => "start",
                            i if i == last => "end",
                            _ => "middle",
                        };
                        view! {
                            <text class="axis-label" x=tick.at y=HEIGHT - 8.0 text-anchor=anchor>
                                {tick.label}
                            </text>
                        }
                    })
                    .collect_view();
                let bars = g
                    .bars
                    .into_iter()
                    .map(|bar| {
                        let plural = if bar.orders == 1 { "" } else { "s" };
                        let tip = format!("{}: {} from {} order{plural}", bar.date, bar.revenue, bar.orders);
                        view! {
                            <rect class="bar" x=bar.x y=bar.y width=bar.width height=bar.height data-date=bar.date>
                                <title>{tip}</title>
                            </rect>
                        }
                    })
                    .collect_view();
                view! {
                    <g aria-hidden="true">{grid}{dates}</g>
                    <g class="bars">{bars}</g>
                    <line class="baseline" x1=LEFT x2=WIDTH - RIGHT y1=g.baseline y2=g.baseline></line>
                }
            }}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, cents: i64, orders: u64) -> DayRevenue {
        DayRevenue { date: date.into(), revenue_cents: Cents(cents), orders }
    }

    fn month(revenues: &[i64]) -> Vec<DayRevenue> {
        revenues.iter().enumerate().map(|(i, c)| day(&format!("2026-11-{:02}", i + 1), *c, u64::from(*c > 0))).collect()
    }

    #[test]
    fn the_scale_is_a_round_amount_at_or_above_the_peak() {
        assert_eq!(nice_ceiling(Cents(0)), Cents(100), "at least a dollar");
        assert_eq!(nice_ceiling(Cents(99)), Cents(100));
        assert_eq!(nice_ceiling(Cents(100)), Cents(100));
        assert_eq!(nice_ceiling(Cents(101)), Cents(200));
        assert_eq!(nice_ceiling(Cents(2397)), Cents(5000));
        assert_eq!(nice_ceiling(Cents(5001)), Cents(10_000));
        assert_eq!(nice_ceiling(Cents(46_757)), Cents(50_000));
        assert_eq!(nice_ceiling(Cents(i64::MAX)), Cents(i64::MAX), "no overflow");
    }

    #[test]
    fn axis_labels_drop_zero_cents() {
        assert_eq!(axis_label(Cents(50_000)), "$500");
        assert_eq!(axis_label(Cents(250_000)), "$2,500");
        assert_eq!(axis_label(Cents(50)), "$0.50");
    }

    #[test]
    fn bars_scale_to_the_plot_and_sit_on_the_baseline() {
        let days = month(&[0, 2500, 5000]);
        let g = chart_geometry(&days);
        assert_eq!(g.scale, Cents(5000));
        assert_eq!(g.bars.len(), 3);
        let plot_height = HEIGHT - TOP - BOTTOM;
        assert_eq!(g.baseline, TOP + plot_height);
        assert_eq!(g.bars[0].height, 0.0);
        assert!((g.bars[1].height - plot_height / 2.0).abs() < 1e-9);
        assert!((g.bars[2].height - plot_height).abs() < 1e-9, "the peak reaches the scale");
        for bar in &g.bars {
            assert!((bar.y + bar.height - g.baseline).abs() < 1e-9);
            assert!(bar.x >= LEFT && bar.x + bar.width <= WIDTH - RIGHT + 1e-9);
        }
        assert!(g.bars.windows(2).all(|w| w[0].x + w[0].width < w[1].x), "bars do not overlap");
        let labels: Vec<_> = g.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["$0", "$25", "$50"]);
        assert_eq!(g.y_ticks[0].at, g.baseline);
        assert_eq!(g.y_ticks[2].at, TOP);
    }

    #[test]
    fn thirty_days_get_three_date_labels_and_empty_data_draws_nothing() {
        let days = month(&[100; 30]);
        let g = chart_geometry(&days);
        let labels: Vec<_> = g.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["11-01", "11-16", "11-30"]);
        let empty = chart_geometry(&[]);
        assert!(empty.bars.is_empty() && empty.x_ticks.is_empty());
        assert_eq!(empty.scale, Cents(100));
        let one = chart_geometry(&month(&[300]));
        assert_eq!(one.x_ticks.len(), 1, "one day, one label");
    }

    #[test]
    fn a_negative_day_draws_no_bar() {
        let g = chart_geometry(&month(&[-500, 100]));
        assert_eq!(g.bars[0].height, 0.0);
    }

    #[test]
    fn the_summary_names_the_period_the_total_and_the_best_day() {
        let days = vec![day("2026-10-29", 0, 0), day("2026-10-30", 2397, 1), day("2026-10-31", 1300, 2)];
        assert_eq!(
            chart_summary(&days),
            "Revenue by day over the last 3 days, 2026-10-29 to 2026-10-31: $36.97 from 3 orders; \
             best day 2026-10-30 with $23.97."
        );
        let quiet = vec![day("2026-10-29", 0, 0)];
        assert_eq!(chart_summary(&quiet), "Revenue by day on 2026-10-29: $0.00 from 0 orders.");
        assert_eq!(chart_summary(&[]), "Revenue by day: no data yet.");
        let tie = vec![day("2026-10-29", 500, 1), day("2026-10-30", 500, 1)];
        assert!(chart_summary(&tie).ends_with("best day 2026-10-29 with $5.00."), "the first of equal days");
    }
}
