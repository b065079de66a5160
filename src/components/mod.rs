//! Components shared by several pages.

pub mod app_link;
pub mod connection_badge;
pub mod layout;
pub mod monitoring_panel;
pub mod offline_note;
pub mod pager;
pub mod pending_writes;
pub mod refresh;
pub mod require_role;
pub mod revenue_chart;
pub mod stat_card;
pub mod states;
pub mod toast;
