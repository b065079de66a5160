//! Passwords (argon2) and tokens (JWT, HS256), and the `AuthUser` extractor that guards the API.
//!
//! Invariant: a request reaches a handler taking `AuthUser` only with a valid, unexpired token of a session
//! that was not revoked; the token carries the whole `protocol::User`, so no query is needed per request.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use protocol::{Role, ShopId, User, UserId};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::state::AppState;

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("argon2 hashes any password").to_string()
}

/// Checks a password against a stored argon2 hash; a malformed hash is a mismatch.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: i64,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub shop_id: Option<i64>,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// The server-side session the token belongs to (see `crate::sessions`).
    pub sid: i64,
}

impl Claims {
    /// The user the token was issued to.
    pub fn user(&self) -> User {
        User {
            id: UserId(self.sub),
            name: self.name.clone(),
            email: self.email.clone(),
            role: self.role,
            shop_id: self.shop_id.map(ShopId),
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid")]
    Invalid,
}

/// The signing keys and the token lifetime.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    refresh_grace: Duration,
}

impl Keys {
    /// Keys from a secret; `None` draws a random one (tokens then die with the process).
    pub fn new(secret: Option<&str>, ttl: Duration, refresh_grace: Duration) -> Self {
        let secret = match secret {
            Some(secret) => secret.as_bytes().to_vec(),
            None => {
                use rand::RngCore;
                let mut bytes = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut bytes);
                bytes
            }
        };
        Self {
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            ttl,
            refresh_grace,
        }
    }

    /// Until when a token expiring at `exp` can be used or refreshed: what a session's row remembers.
    pub fn usable_until(&self, exp: i64) -> i64 {
        exp + self.refresh_grace.as_secs() as i64
    }

    /// When a token issued at `now_secs` expires.
    pub fn expiry_from(&self, now_secs: i64) -> i64 {
        now_secs + self.ttl.as_secs() as i64
    }

    /// Issues a token of session `sid` for `user`, valid for the configured lifetime from `now_secs`; returns
    /// it with its expiry.
    pub fn issue(&self, user: &User, sid: i64, now_secs: i64) -> (String, i64) {
        let exp = self.expiry_from(now_secs);
        let claims = Claims {
            sub: user.id.0,
            name: user.name.clone(),
            email: user.email.clone(),
            role: user.role,
            shop_id: user.shop_id.map(|s| s.0),
            iat: now_secs,
            exp,
            sid,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signs any claims");
        (token, exp)
    }

    /// Verifies a token's signature and expiry at `now_secs`.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        let claims = self.decode_ignoring_expiry(token)?;
        if now_secs >= claims.exp {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    /// Verifies a token for `/api/auth/refresh`: the signature must hold and the token may be expired by at
    /// most the refresh grace.
    pub fn verify_for_refresh(&self, token: &str, now_secs: i64) -> Result<Claims, TokenError> {
        let claims = self.decode_ignoring_expiry(token)?;
        if now_secs >= claims.exp + self.refresh_grace.as_secs() as i64 {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }

    fn decode_ignoring_expiry(&self, token: &str) -> Result<Claims, TokenError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by the callers against the time they pass in (no leeway).
        validation.validate_exp = false;
        validation.required_spec_claims.clear();
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|_| TokenError::Invalid)
    }
}

/// The signed-in caller of an API request (from `Authorization: Bearer <token>`).
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(AppError::Unauthorized("sign in first (no bearer token)".into()))?;
        match state.keys.verify(token, state.clock.now_secs()) {
            Ok(claims) if state.sessions.is_revoked(claims.sid) => Err(AppError::SessionEnded),
            Ok(claims) => Ok(AuthUser(claims.user())),
            Err(TokenError::Expired) => Err(AppError::TokenExpired),
            Err(TokenError::Invalid) => Err(AppError::Unauthorized("the token is not valid".into())),
        }
    }
}

/// The token of an `Authorization: Bearer` header, if any.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer "))?.trim();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> User {
        User {
            id: UserId(3),
            name: "Olga".into(),
            email: "owner1@izishopin.test".into(),
            role: Role::Owner,
            shop_id: Some(ShopId(1)),
        }
    }

    #[test]
    fn passwords_verify_only_with_the_right_text() {
        let hash = hash_password("demo1234");
        assert!(verify_password("demo1234", &hash));
        assert!(!verify_password("demo12345", &hash));
        assert!(!verify_password("demo1234", "not a hash"));
    }

    #[test]
    fn a_token_carries_the_user_until_it_expires() {
        let keys = Keys::new(Some("secret"), Duration::from_secs(60), Duration::from_secs(600));
        let (token, exp) = keys.issue(&owner(), 7, 1_000);
        assert_eq!(exp, 1_060);
        assert_eq!(keys.verify(&token, 1_059).unwrap().user(), owner());
        assert_eq!(keys.verify(&token, 1_059).unwrap().sid, 7);
        assert_eq!(keys.usable_until(exp), 1_660);
        assert_eq!(keys.verify(&token, 1_060), Err(TokenError::Expired));
        assert!(keys.verify_for_refresh(&token, 1_600).is_ok());
        assert_eq!(keys.verify_for_refresh(&token, 1_660), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_from_another_secret_or_tampered_is_invalid() {
        let keys = Keys::new(Some("secret"), Duration::from_secs(60), Duration::ZERO);
        let other = Keys::new(Some("other"), Duration::from_secs(60), Duration::ZERO);
        let (token, _) = other.issue(&owner(), 7, 1_000);
        assert_eq!(keys.verify(&token, 1_000), Err(TokenError::Invalid));
        let (token, _) = keys.issue(&owner(), 7, 1_000);
        let tampered = format!("{}x", token);
        assert_eq!(keys.verify(&tampered, 1_000), Err(TokenError::Invalid));
        assert_eq!(keys.verify("garbage", 1_000), Err(TokenError::Invalid));
    }
}
