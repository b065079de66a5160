//! The catalog over REST: listing, search, paging, product figures per role, and the staff's writes with
//! their validation and tenant rules.

use protocol::{NewProduct, Page, Product, ProductPatch, ProductStats, Shop, ShopId};
use serde_json::json;

use crate::support::{Api, dist_with_index, error, ok, spawn};

fn new_product(name: &str, price_cents: i64, stock: i64) -> NewProduct {
    NewProduct { shop_id: None, name: name.into(), description: "A test product.".into(), price_cents, stock }
}

/// The first product of `shop` in the catalog.
async fn product_of(api: &Api, shop: ShopId) -> Product {
    let page: Page<Product> = api.get_ok(&format!("/api/products?shop_id={shop}&per_page=1")).await;
    page.items.into_iter().next().expect("the shop has products")
}

#[tokio::test]
async fn the_catalog_pages_and_searches() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let api = server.login("customer1@izishopin.test").await;

    let all: Page<Product> = api.get_ok("/api/products?per_page=100").await;
    assert_eq!(all.total as usize, all.items.len());
    assert!(all.total >= 24);
    let first: Page<Product> = api.get_ok("/api/products").await;
    assert_eq!((first.page, first.per_page, first.items.len()), (1, 20, 20));
    let second: Page<Product> = api.get_ok("/api/products?page=2&per_page=20").await;
    assert_eq!(second.items.len() as u64, all.total - 20);
    assert!(second.items.iter().all(|p| !first.items.contains(p)));
    let beyond: Page<Product> = api.get_ok("/api/products?page=99").await;
    assert!(beyond.items.is_empty() && beyond.total == all.total);

    let found: Page<Product> = api.get_ok("/api/products?q=SOURDOUGH").await;
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].name, "Sourdough Loaf");
    let one: Product = api.get_ok(&format!("/api/products/{}", found.items[0].id)).await;
    assert_eq!(one, found.items[0]);

    for (query, field) in [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=two", "page"),
        ("shop_id=x", "shop_id"),
    ] {
        let body = error(api.get(&format!("/api/products?{query}")).await, 422).await;
        assert_eq!(body.field.as_deref(), Some(field), "{query}");
    }
}

#[tokio::test]
async fn product_figures_depend_on_the_role() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let admin = server.login("admin@izishopin.test").await;
    let customer = server.login("customer2@izishopin.test").await;

    let own: ProductStats = owner.get_ok("/api/products/stats?shop_id=2").await;
    assert_eq!(own.shop_id, owner.user.shop_id, "an owner always gets their own shop");
    assert!(own.total_products >= 8 && own.out_of_stock >= 1 && own.low_stock >= own.out_of_stock);

    let platform: ProductStats = admin.get_ok("/api/products/stats").await;
    assert_eq!(platform.shop_id, None);
    let shops: Vec<Shop> = admin.get_ok("/api/shops").await;
    let mut sum = 0;
    for shop in &shops {
        let stats: ProductStats = admin.get_ok(&format!("/api/products/stats?shop_id={}", shop.id)).await;
        sum += stats.total_products;
    }
    assert_eq!(sum, platform.total_products);
    assert_eq!(error(admin.get("/api/products/stats?shop_id=999").await, 404).await.code, "not_found");

    assert_eq!(error(customer.get("/api/products/stats").await, 404).await.code, "not_found");
}

#[tokio::test]
async fn an_owner_creates_updates_and_deletes_their_products() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner1@izishopin.test").await;
    let shop = owner.user.shop_id.unwrap();

    let mut input = new_product("  Oat Milk 1 l  ", 319, 40);
    input.shop_id = Some(ShopId(3)); // ignored for an owner
    let created: Product = ok(owner.post("/api/products", &input).await).await;
    assert_eq!(
        (created.shop_id, created.name.as_str(), created.price_cents.0, created.stock),
        (shop, "Oat Milk 1 l", 319, 40)
    );

    let patch = ProductPatch { price_cents: Some(299), stock: Some(3), ..ProductPatch::default() };
    let updated: Product = ok(owner.patch(&format!("/api/products/{}", created.id), &patch).await).await;
    assert_eq!((updated.price_cents.0, updated.stock, updated.name.as_str()), (299, 3, "Oat Milk 1 l"));

    let deleted: Product = ok(owner.delete(&format!("/api/products/{}", created.id)).await).await;
    assert_eq!(deleted.id, created.id);
    assert_eq!(error(owner.get(&format!("/api/products/{}", created.id)).await, 404).await.code, "not_found");
    assert_eq!(error(owner.delete(&format!("/api/products/{}", created.id)).await, 404).await.code, "not_found");
    let page: Page<Product> = owner.get_ok("/api/products?q=oat%20milk").await;
    assert!(page.items.is_empty(), "deleted products leave the catalog");
}

#[tokio::test]
async fn product_input_is_validated_field_by_field() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner = server.login("owner2@izishopin.test").await;
    let cases = [
        (json!({"name": "   ", "price_cents": 1, "stock": 1}), "name"),
        (json!({"name": "x".repeat(121), "price_cents": 1, "stock": 1}), "name"),
        (json!({"name": "ok", "description": "d".repeat(2001), "price_cents": 1, "stock": 1}), "description"),
        (json!({"name": "ok", "price_cents": -1, "stock": 1}), "price_cents"),
        (json!({"name": "ok", "price_cents": 100_000_001, "stock": 1}), "price_cents"),
        (json!({"name": "ok", "price_cents": 1, "stock": -1}), "stock"),
        (json!({"name": "ok", "price_cents": 1, "stock": 1_000_001}), "stock"),
        (json!({"name": "ok", "price_cents": "free", "stock": 1}), "price_cents"),
        (json!({"name": "ok", "stock": 1}), "price_cents"),
    ];
    for (body, field) in cases {
        let answer = error(owner.post("/api/products", &body).await, 422).await;
        assert_eq!((answer.code.as_str(), answer.field.as_deref()), ("validation", Some(field)), "{body}");
    }
    let edge: Product =
        ok(owner.post("/api/products", &new_product(&"é".repeat(120), 100_000_000, 1_000_000)).await).await;
    assert_eq!(edge.stock, 1_000_000);
    let answer = error(owner.patch(&format!("/api/products/{}", edge.id), &json!({"name": ""})).await, 422).await;
    assert_eq!(answer.field.as_deref(), Some("name"));

    let admin = server.login("admin@izishopin.test").await;
    let answer = error(admin.post("/api/products", &new_product("No shop", 1, 1)).await, 422).await;
    assert_eq!(answer.field.as_deref(), Some("shop_id"));
    let mut input = new_product("Ghost shop", 1, 1);
    input.shop_id = Some(ShopId(999));
    assert_eq!(error(admin.post("/api/products", &input).await, 422).await.field.as_deref(), Some("shop_id"));
    input.shop_id = Some(ShopId(2));
    let made: Product = ok(admin.post("/api/products", &input).await).await;
    assert_eq!(made.shop_id, ShopId(2));
}

#[tokio::test]
async fn other_tenants_products_are_404_and_customers_cannot_write() {
    let dist = dist_with_index();
    let server = spawn(dist.path()).await;
    let owner1 = server.login("owner1@izishopin.test").await;
    let owner2 = server.login("owner2@izishopin.test").await;
    let customer = server.login("customer1@izishopin.test").await;
    let theirs = product_of(&owner1, owner2.user.shop_id.unwrap()).await;
    let path = format!("/api/products/{}", theirs.id);

    // Reading the catalog is fine; writing another shop's product is a 404.
    let _: Product = owner1.get_ok(&path).await;
    let patch = ProductPatch { stock: Some(0), ..ProductPatch::default() };
    assert_eq!(error(owner1.patch(&path, &patch).await, 404).await.code, "not_found");
    assert_eq!(error(owner1.delete(&path).await, 404).await.code, "not_found");
    assert_eq!(error(customer.patch(&path, &patch).await, 404).await.code, "not_found");
    assert_eq!(error(customer.delete(&path).await, 404).await.code, "not_found");
    assert_eq!(error(customer.post("/api/products", &new_product("Mine", 1, 1)).await, 404).await.code, "not_found");
    let after: Product = owner2.get_ok(&path).await;
    assert_eq!(after, theirs, "nothing changed");
}
