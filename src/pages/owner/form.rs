//! The product form's rules, pure: dollar text to integer cents (string arithmetic, never a float), the
//! checks run before anything is sent, and the mapping of a server 422 onto the field it names.
//!
//! Invariant: no `leptos`, no browser API; every rule here is a native unit test.

use std::fmt;

use protocol::product_limits::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, MAX_STOCK};
use protocol::{Cents, NewProduct, Product, ProductPatch};

use crate::api::ApiError;

/// Why a dollar amount was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoneyError {
    Empty,
    Negative,
    NotANumber,
    TooManyDecimals,
    TooLarge,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyError::Empty => "Enter a price.",
            MoneyError::Negative => "The price cannot be negative.",
            MoneyError::NotANumber => "Enter the price in dollars, like 12.50.",
            MoneyError::TooManyDecimals => "Use at most two decimals (cents).",
            MoneyError::TooLarge => "That price is too large.",
        })
    }
}

/// Parses a dollar amount typed by a person into cents, exactly: `"12.5"` → 1250, `"$1,234.05"` → 123405,
/// `".5"` → 50, `"3."` → 300. Accepts surrounding spaces, one leading `$` and thousands separators in their
/// places; refuses signs, exponents, more than two decimals and amounts past `i64`.
pub fn parse_dollars(text: &str) -> Result<Cents, MoneyError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(MoneyError::Empty);
    }
    if text.starts_with('-') || text.starts_with("$-") || text.starts_with("-$") {
        return Err(MoneyError::Negative);
    }
    let text = text.strip_prefix('$').unwrap_or(text).trim_start();
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let whole = ungroup(whole)?;
    let fraction = fraction.unwrap_or("");
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(MoneyError::NotANumber);
    }
    if whole.is_empty() && fraction.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    if fraction.len() > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    let mut cents: i64 = 0;
    for digit in whole.bytes().chain(fraction.bytes()).chain(std::iter::repeat_n(b'0', 2 - fraction.len())) {
        cents =
            cents.checked_mul(10).and_then(|c| c.checked_add(i64::from(digit - b'0'))).ok_or(MoneyError::TooLarge)?;
    }
    Ok(Cents(cents))
}

/// The digits of a whole-dollar part, with thousands separators removed when each is in its place
/// (`1,234,567`); anything else but digits is refused.
fn ungroup(whole: &str) -> Result<String, MoneyError> {
    if !whole.contains(',') {
        return if whole.bytes().all(|b| b.is_ascii_digit()) {
            Ok(whole.to_owned())
        } else {
            Err(MoneyError::NotANumber)
        };
    }
    let groups: Vec<&str> = whole.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
    if first_ok && rest_ok && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())) {
        Ok(groups.concat())
    } else {
        Err(MoneyError::NotANumber)
    }
}

/// Cents as the form shows them for editing: `1250` → `"12.50"` (no `$`, no separators, so it parses back).
pub fn dollars_input(cents: Cents) -> String {
    let sign = if cents.0 < 0 { "-" } else { "" };
    let abs = cents.0.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

/// The fields of the product form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Name,
    Description,
    Price,
    Stock,
}

impl Field {
    /// The form field a server error's `field` names (`"price_cents"` is the price box).
    pub fn from_server(name: &str) -> Option<Field> {
        match name {
            "name" => Some(Field::Name),
            "description" => Some(Field::Description),
            "price_cents" => Some(Field::Price),
            "stock" => Some(Field::Stock),
            _ => None,
        }
    }
}

/// What the person typed, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductDraft {
    pub name: String,
    pub description: String,
    pub price: String,
    pub stock: String,
}

impl ProductDraft {
    /// The form filled with a product, for editing.
    pub fn from_product(product: &Product) -> Self {
        ProductDraft {
            name: product.name.clone(),
            description: product.description.clone(),
            price: dollars_input(product.price_cents),
            stock: product.stock.to_string(),
        }
    }
}

/// A draft that passed every check: what can be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidProduct {
    pub name: String,
    pub description: String,
    pub price_cents: Cents,
    pub stock: i64,
}

impl ValidProduct {
    /// The body of `POST /api/products` (an owner's product goes to their own shop).
    pub fn to_new(&self) -> NewProduct {
        NewProduct {
            shop_id: None,
            name: self.name.clone(),
            description: self.description.clone(),
            price_cents: self.price_cents.0,
            stock: self.stock,
        }
    }

    /// The body of `PATCH /api/products/{id}`: only what differs from `product`. `None` when nothing does.
    pub fn to_patch(&self, product: &Product) -> Option<ProductPatch> {
        let patch = ProductPatch {
            name: (self.name != product.name).then(|| self.name.clone()),
            description: (self.description != product.description).then(|| self.description.clone()),
            price_cents: (self.price_cents != product.price_cents).then_some(self.price_cents.0),
            stock: (self.stock != i64::from(product.stock)).then_some(self.stock),
        };
        (patch != ProductPatch::default()).then_some(patch)
    }
}

/// A message per field at fault (and one for the form as a whole, for errors naming no field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors {
    pub name: Option<String>,
    pub description: Option<String>,
    pub price: Option<String>,
    pub stock: Option<String>,
    pub form: Option<String>,
}

impl FieldErrors {
    /// The message of `field`, if it has one.
    pub fn get(&self, field: Field) -> Option<&String> {
        match field {
            Field::Name => self.name.as_ref(),
            Field::Description => self.description.as_ref(),
            Field::Price => self.price.as_ref(),
            Field::Stock => self.stock.as_ref(),
        }
    }

    fn slot(&mut self, field: Field) -> &mut Option<String> {
        match field {
            Field::Name => &mut self.name,
            Field::Description => &mut self.description,
            Field::Price => &mut self.price,
            Field::Stock => &mut self.stock,
        }
    }

    /// Whether nothing is at fault.
    pub fn is_empty(&self) -> bool {
        *self == FieldErrors::default()
    }

    /// The first field at fault, in the form's order (where focus goes after a failed submit).
    pub fn first_field(&self) -> Option<Field> {
        [Field::Name, Field::Description, Field::Price, Field::Stock].into_iter().find(|f| self.get(*f).is_some())
    }
}

/// Parses a stock count: a whole number from 0 to [`MAX_STOCK`].
pub fn parse_stock(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Enter the units in stock.".into());
    }
    if text.starts_with('-') {
        return Err("Stock cannot be negative.".into());
    }
    let digits = text.replace(',', "");
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("Enter a whole number of units, like 12.".into());
    }
    match digits.parse::<i64>() {
        Ok(n) if n <= MAX_STOCK => Ok(n),
        _ => Err("Stock can be at most 1,000,000 units.".into()),
    }
}

/// Checks a draft before sending: name 1–120 characters after trimming, description at most 2,000, price a
/// dollar amount of at least zero, stock a whole number from 0 to 1,000,000. The price's upper bound is the
/// server's to enforce (a 422 shown next to the price).
pub fn validate(draft: &ProductDraft) -> Result<ValidProduct, FieldErrors> {
    let mut errors = FieldErrors::default();
    let name = draft.name.trim();
    match name.chars().count() {
        0 => errors.name = Some("Enter a name.".into()),
        n if n > MAX_NAME_CHARS => {
            errors.name = Some(format!("Use at most {MAX_NAME_CHARS} characters ({n} now)."));
        }
        _ => {}
    }
    let description = draft.description.trim();
    let description_chars = description.chars().count();
    if description_chars > MAX_DESCRIPTION_CHARS {
        errors.description = Some(format!("Use at most 2,000 characters ({description_chars} now)."));
    }
    let price = parse_dollars(&draft.price).map_err(|e| errors.price = Some(e.to_string())).ok();
    let stock = parse_stock(&draft.stock).map_err(|e| errors.stock = Some(e)).ok();
    match (price, stock) {
        (Some(price_cents), Some(stock)) if errors.is_empty() => {
            Ok(ValidProduct { name: name.to_owned(), description: description.to_owned(), price_cents, stock })
        }
        _ => Err(errors),
    }
}

/// Places a failed save's error: a validation answer naming a field goes next to that field (its message
/// without the `field: ` prefix), anything else above the form.
pub fn errors_from_server(error: &ApiError) -> FieldErrors {
    let mut errors = FieldErrors::default();
    if let ApiError::Server { status: 422, message, .. } = error
        && let Some((name, text)) = message.split_once(": ")
        && let Some(field) = Field::from_server(name)
    {
        *errors.slot(field) = Some(sentence(text));
        return errors;
    }
    errors.form = Some(sentence(&error.to_string()));
    errors
}

/// `product` with `patch` applied: what the table shows while the edit waits for the server.
pub fn patched(product: &Product, patch: &ProductPatch) -> Product {
    let mut shown = product.clone();
    if let Some(name) = &patch.name {
        shown.name = name.clone();
    }
    if let Some(description) = &patch.description {
        shown.description = description.clone();
    }
    if let Some(price) = patch.price_cents {
        shown.price_cents = Cents(price);
    }
    if let Some(stock) = patch.stock {
        shown.stock = u32::try_from(stock).unwrap_or(0);
    }
    shown
}

/// What the form says when its edit was made on an older version: the product as the other person left it.
pub fn conflict_message(theirs: &Product) -> String {
    format!(
        "Someone else changed this product meanwhile: it is now “{}”, {}, {} in stock. Your change was not applied; \
         close the form and edit their version.",
        theirs.name, theirs.price_cents, theirs.stock
    )
}

/// `"must not be empty"` → `"Must not be empty."`.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    out.push_str(chars.as_str());
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::{ProductId, ShopId};

    #[test]
    fn dollars_parse_to_exact_cents() {
        for (text, cents) in [
            ("12.5", 1250),
            ("12.50", 1250),
            ("12", 1200),
            ("0", 0),
            ("0.00", 0),
            ("0.01", 1),
            (".5", 50),
            (".05", 5),
            ("3.", 300),
            ("  7.25 ", 725),
            ("$4.99", 499),
            ("$ 4.99", 499),
            ("1,234.05", 123_405),
            ("1,000,000", 100_000_000),
            ("007.10", 710),
            ("19.99", 1999),
            ("0.1", 10),
            ("92233720368547758.07", i64::MAX),
        ] {
            assert_eq!(parse_dollars(text), Ok(Cents(cents)), "{text:?}");
        }
    }

    #[test]
    fn dollars_refuse_what_is_not_an_amount() {
        use MoneyError::*;
        for (text, error) in [
            ("", Empty),
            ("   ", Empty),
            ("-1", Negative),
            ("-0.50", Negative),
            ("$-2", Negative),
            ("-$2", Negative),
            ("12.505", TooManyDecimals),
            ("0.001", TooManyDecimals),
            ("abc", NotANumber),
            (".", NotANumber),
            ("$", NotANumber),
            ("1.2.3", NotANumber),
            ("1e3", NotANumber),
            ("+5", NotANumber),
            ("12,5", NotANumber),
            ("1,23,456", NotANumber),
            (",123", NotANumber),
            ("1 000", NotANumber),
            ("12.5a", NotANumber),
            ("١٢", NotANumber),
            ("NaN", NotANumber),
            ("92233720368547758.08", TooLarge),
            ("99999999999999999999", TooLarge),
        ] {
            assert_eq!(parse_dollars(text), Err(error), "{text:?}");
        }
    }

    #[test]
    fn cents_show_as_an_editable_amount_that_parses_back() {
        for cents in [0, 1, 50, 1250, 123_405, 100_000_000] {
            let text = dollars_input(Cents(cents));
            assert_eq!(parse_dollars(&text), Ok(Cents(cents)), "{text}");
        }
        assert_eq!(dollars_input(Cents(1250)), "12.50");
        assert_eq!(dollars_input(Cents(5)), "0.05");
    }

    fn draft(name: &str, price: &str, stock: &str) -> ProductDraft {
        ProductDraft { name: name.into(), description: " Fresh. ".into(), price: price.into(), stock: stock.into() }
    }

    #[test]
    fn a_good_draft_is_trimmed_and_converted() {
        let valid = validate(&draft("  Fern  ", "12.5", "7")).unwrap();
        assert_eq!(
            valid,
            ValidProduct { name: "Fern".into(), description: "Fresh.".into(), price_cents: Cents(1250), stock: 7 }
        );
        assert_eq!(valid.to_new().price_cents, 1250);
        assert_eq!(valid.to_new().shop_id, None);
    }

    #[test]
    fn every_field_at_fault_gets_its_message() {
        let errors = validate(&draft("   ", "-1", "1.5")).unwrap_err();
        assert_eq!(errors.name.as_deref(), Some("Enter a name."));
        assert_eq!(errors.price.as_deref(), Some("The price cannot be negative."));
        assert_eq!(errors.stock.as_deref(), Some("Enter a whole number of units, like 12."));
        assert_eq!(errors.description, None);
        assert_eq!(errors.first_field(), Some(Field::Name));

        let long = "x".repeat(121);
        let errors = validate(&draft(&long, "1", "1")).unwrap_err();
        assert_eq!(errors.name.as_deref(), Some("Use at most 120 characters (121 now)."));
        assert!(validate(&draft(&"é".repeat(120), "1", "1")).is_ok(), "characters, not bytes");

        let mut big = draft("Fern", "1", "1");
        big.description = "y".repeat(2001);
        assert!(validate(&big).unwrap_err().description.is_some());
    }

    #[test]
    fn stock_is_a_whole_number_up_to_a_million() {
        assert_eq!(parse_stock("0"), Ok(0));
        assert_eq!(parse_stock(" 1,000,000 "), Ok(1_000_000));
        assert!(parse_stock("1000001").is_err());
        assert!(parse_stock("99999999999999999999999").is_err());
        assert!(parse_stock("-3").is_err());
        assert!(parse_stock("").is_err());
        assert!(parse_stock("ten").is_err());
        assert!(parse_stock("2.0").is_err());
    }

    #[test]
    fn a_patch_carries_only_what_changed() {
        let product = Product {
            id: ProductId(1),
            shop_id: ShopId(1),
            shop_name: "Green Leaf Grocery".into(),
            name: "Fern".into(),
            description: "Fresh.".into(),
            price_cents: Cents(1250),
            stock: 7,
            updated_at: "2026-11-27T10:00:00Z".into(),
            version: 1,
        };
        let same = validate(&ProductDraft::from_product(&product)).unwrap();
        assert_eq!(same.to_patch(&product), None);
        let cheaper = validate(&ProductDraft { price: "9.99".into(), ..ProductDraft::from_product(&product) }).unwrap();
        assert_eq!(cheaper.to_patch(&product), Some(ProductPatch { price_cents: Some(999), ..Default::default() }));
        let shown = patched(&product, &ProductPatch { price_cents: Some(999), stock: Some(4), ..Default::default() });
        assert_eq!((shown.price_cents, shown.stock, shown.name.as_str()), (Cents(999), 4, "Fern"));
        let theirs = Product { name: "Royal Fern".into(), price_cents: Cents(1400), stock: 3, ..product };
        let said = conflict_message(&theirs);
        assert!(said.contains("“Royal Fern”, $14.00, 3 in stock"), "{said}");
        assert!(said.contains("Your change was not applied"), "{said}");
    }

    #[test]
    fn a_server_validation_error_lands_on_its_field() {
        let error = ApiError::Server {
            status: 422,
            code: "validation".into(),
            message: "price_cents: must be between 0 and 100000000 cents".into(),
        };
        let errors = errors_from_server(&error);
        assert_eq!(errors.price.as_deref(), Some("Must be between 0 and 100000000 cents."));
        assert_eq!(errors.form, None);

        let conflict = ApiError::Server { status: 409, code: "conflict".into(), message: "name: taken".into() };
        assert_eq!(errors_from_server(&conflict).form.as_deref(), Some("Name: taken."), "only a 422 names a field");
        let unknown =
            ApiError::Server { status: 422, code: "validation".into(), message: "shop_id: say which shop".into() };
        assert_eq!(errors_from_server(&unknown).form.as_deref(), Some("Shop_id: say which shop."));
        let offline = ApiError::Network("down".into());
        assert!(errors_from_server(&offline).form.unwrap().starts_with("Cannot reach the server"));
    }
}
