//! Ids and money: newtypes so an order id is never passed where a product id is expected, and money is
//! always integer cents.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id_type!(
    /// A user's id.
    UserId,
    /// A shop's id.
    ShopId,
    /// A product's id.
    ProductId,
    /// An order's id.
    OrderId,
    /// A notification's id.
    NotificationId,
);

/// The sequence number of a stored event: strictly increasing, gap-free per server database.
pub type Seq = u64;

/// An amount of money in integer cents (never a float).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    /// Multiplies a unit price by a quantity.
    pub fn times(self, quantity: u32) -> Cents {
        Cents(self.0 * i64::from(quantity))
    }
}

impl std::ops::Add for Cents {
    type Output = Cents;
    fn add(self, other: Cents) -> Cents {
        Cents(self.0 + other.0)
    }
}

impl std::ops::Sub for Cents {
    type Output = Cents;
    fn sub(self, other: Cents) -> Cents {
        Cents(self.0 - other.0)
    }
}

impl std::iter::Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        Cents(iter.map(|c| c.0).sum())
    }
}

/// Formats as dollars with two decimals and thousands separators: `$1,234.05`, `-$0.50`.
impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let dollars = (abs / 100).to_string();
        let mut grouped = String::with_capacity(dollars.len() + dollars.len() / 3);
        for (i, digit) in dollars.chars().enumerate() {
            if i > 0 && (dollars.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "{sign}${grouped}.{:02}", abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_money_are_plain_numbers_on_the_wire() {
        assert_eq!(serde_json::to_string(&OrderId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<Cents>("1999").unwrap(), Cents(1999));
    }

    #[test]
    fn money_displays_as_dollars() {
        assert_eq!(Cents(0).to_string(), "$0.00");
        assert_eq!(Cents(5).to_string(), "$0.05");
        assert_eq!(Cents(123_405).to_string(), "$1,234.05");
        assert_eq!(Cents(100_000_000).to_string(), "$1,000,000.00");
        assert_eq!(Cents(-50).to_string(), "-$0.50");
    }

    #[test]
    fn money_arithmetic() {
        assert_eq!(Cents(250).times(3), Cents(750));
        assert_eq!([Cents(1), Cents(2)].into_iter().sum::<Cents>(), Cents(3));
        assert_eq!(Cents(5) - Cents(7), Cents(-2));
    }
}
