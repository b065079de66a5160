//! Which of the two apps answers an app path: the storefront (the catalog, product pages, cart, wishlist,
//! checkout, a customer's orders, the login) or the back office (the owner's and the admin's dashboards).
//! The server sends each path the `index.html` of its bundle; each bundle loads the other's paths in full.
//!
//! Invariant: `/owner` and `/admin` with everything under them are the back office's; every other path is the
//! storefront's. Both bundles also route `/` and `/login` (reached in the back office without a page load).

/// One of the two apps built from this workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bundle {
    Storefront,
    BackOffice,
}

impl Bundle {
    /// Where the bundle's files are, under the app's root (`dist/storefront`, `/storefront/app-….wasm`).
    pub fn folder(self) -> &'static str {
        match self {
            Bundle::Storefront => "storefront",
            Bundle::BackOffice => "backoffice",
        }
    }
}

/// The bundle whose `index.html` answers `path` (a query or fragment is ignored).
pub fn bundle_of(path: &str) -> Bundle {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.trim_start_matches('/').split('/').next().unwrap_or_default() {
        "owner" | "admin" => Bundle::BackOffice,
        _ => Bundle::Storefront,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboards_are_the_back_office_and_everything_else_the_storefront() {
        for path in ["/owner", "/owner/", "/admin", "/admin/shops/3", "/admin?tab=2", "/owner#orders"] {
            assert_eq!(bundle_of(path), Bundle::BackOffice, "{path}");
        }
        for path in ["/", "", "/login", "/shop", "/shop/products/4", "/cart", "/orders/7", "/administrator", "/owners"]
        {
            assert_eq!(bundle_of(path), Bundle::Storefront, "{path}");
        }
    }
}
