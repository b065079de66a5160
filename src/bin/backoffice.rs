//! The back office's browser entry point: mounts the owner's and the admin's dashboards on `<body>`.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(izishopin_live::app::BackOffice);
}
