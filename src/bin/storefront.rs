//! The storefront's browser entry point: mounts the storefront on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(izishopin_live::app::Storefront);
}
