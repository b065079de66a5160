//! `POST /api/auth/login`, `POST /api/auth/refresh`, `POST /api/auth/logout`, `GET /api/me`, and who the
//! client is (its address, behind trusted proxies too).
//!
//! Invariant: a wrong email and a wrong password get the same answer after the same amount of work (a
//! password check runs either way); an address with too many recent failures is refused before any check; at
//! most [`PASSWORD_CHECKS_AT_ONCE`] password checks run at once, whatever the number of logins arriving.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::LazyLock;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use protocol::{LoggedOut, LoginRequest, LoginResponse, User};

use crate::auth::{AuthUser, TokenError, bearer_token, hash_password, verify_password};
use crate::error::{ApiJson, AppError};
use crate::state::AppState;
use crate::store;

/// Password checks running at once at most. Each argon2 check takes 19 MiB of working memory, which the
/// allocator keeps once touched: unbounded, a burst of 16 logins left the server holding ~420 MiB (measured by
/// `bench cost`). Further logins wait their turn.
pub const PASSWORD_CHECKS_AT_ONCE: usize = 2;

static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(PASSWORD_CHECKS_AT_ONCE);

/// The client's address: the connection's peer, or behind a trusted proxy the address it forwarded
/// (unspecified when the server runs without connect info, as in router-only tests).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
        let peer = peer.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let forwarded = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(peer, forwarded, &state.config.trusted_proxies)))
    }
}

/// Who the client is: `peer`, unless `peer` is a trusted proxy; then the nearest address in
/// `X-Forwarded-For` (read from the right, the hops the proxies appended) that is not itself a trusted
/// proxy. A header from an untrusted peer, or one that does not parse, is ignored: anybody can send one.
pub fn client_ip<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded.flat_map(|value| value.split(',')).map(str::trim).collect();
    for hop in hops.into_iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

/// A hash no password matches, checked when the email is unknown so that both failures cost the same.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("no account has this password"));

fn respond(state: &AppState, user: User, sid: i64, now_secs: i64) -> Json<LoginResponse> {
    let (token, expires_at) = state.keys.issue(&user, sid, now_secs);
    Json(LoginResponse { token, expires_at, user })
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, AppError> {
    state
        .login_limiter
        .check(ip, Instant::now())
        .map_err(|retry_after_secs| AppError::TooManyRequests { retry_after_secs })?;
    let mut conn = state.db.acquire().await?;
    let found = store::users::find_login(&mut conn, &request.email).await?;
    drop(conn);
    let password = request.password;
    let _turn = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(|error| AppError::Internal(anyhow::Error::new(error).context("password check queue")))?;
    // argon2 takes tens of milliseconds: keep it off the async workers.
    let user = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => verify_password(&password, &hash).then_some(user),
        None => {
            verify_password(&password, &DUMMY_HASH);
            None
        }
    })
    .await
    .map_err(|error| AppError::Internal(anyhow::Error::new(error).context("password check")))?;
    match user {
        Some(user) => {
            state.login_limiter.clear(ip);
            let now = state.clock.now_secs();
            let usable_until = state.keys.usable_until(state.keys.expiry_from(now));
            let sid = state.sessions.open(&state.db, state.clock.now_ms(), user.id, usable_until).await?;
            Ok(respond(&state, user, sid, now))
        }
        None => {
            state.login_limiter.fail(ip, Instant::now());
            Err(AppError::BadCredentials)
        }
    }
}

/// The claims of the bearer token, valid or expired within the refresh grace.
fn refreshable_claims(state: &AppState, parts: &Parts) -> Result<crate::auth::Claims, AppError> {
    let token = bearer_token(parts).ok_or(AppError::Unauthorized("sign in first (no bearer token)".into()))?;
    match state.keys.verify_for_refresh(token, state.clock.now_secs()) {
        Ok(claims) => Ok(claims),
        Err(TokenError::Expired) => Err(AppError::TokenExpired),
        Err(TokenError::Invalid) => Err(AppError::Unauthorized("the token is not valid".into())),
    }
}

/// Trades a token (valid, or expired within the refresh grace) of a live session for a new one of the same
/// session, re-reading the user so that a deleted account cannot refresh and a changed one gets its new
/// details.
async fn refresh(State(state): State<AppState>, parts: Parts) -> Result<Json<LoginResponse>, AppError> {
    let claims = refreshable_claims(&state, &parts)?;
    if state.sessions.is_revoked(claims.sid) {
        return Err(AppError::SessionEnded);
    }
    let mut conn = state.db.acquire().await?;
    let user = store::users::find(&mut conn, claims.user().id)
        .await?
        .ok_or(AppError::Unauthorized("this account no longer exists".into()))?;
    drop(conn);
    let now = state.clock.now_secs();
    state.sessions.extend(&state.db, claims.sid, state.keys.usable_until(state.keys.expiry_from(now))).await?;
    Ok(respond(&state, user, claims.sid, now))
}

/// Ends the token's session: its tokens stop working everywhere (REST 401 `session_ended`, sockets closed
/// with 4401). A token expired within the refresh grace may log out too; logging out twice is fine.
async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Json<LoggedOut>, AppError> {
    let claims = refreshable_claims(&state, &parts)?;
    let expires_at =
        state.sessions.revoke(&state.db, state.clock.now_ms(), claims.sid, state.keys.usable_until(claims.exp)).await?;
    if let Some(cluster) = &state.cluster {
        cluster.announce_revocation(claims.sid, expires_at);
    }
    Ok(Json(LoggedOut { logged_out: true }))
}

async fn me(AuthUser(user): AuthUser) -> Json<User> {
    Json(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behind_a_trusted_proxy_the_client_is_the_nearest_forwarded_address() {
        let ip = |text: &str| text.parse::<IpAddr>().unwrap();
        let balancer = ip("10.0.0.9");
        let trusted = [balancer, ip("10.0.0.8")];
        let client = |peer: IpAddr, headers: &[&str]| client_ip(peer, headers.iter().copied(), &trusted);
        assert_eq!(client(balancer, &["203.0.113.7"]), ip("203.0.113.7"));
        assert_eq!(client(balancer, &["198.51.100.1, 203.0.113.7"]), ip("203.0.113.7"), "the hop the proxy added");
        assert_eq!(client(balancer, &["198.51.100.1", "203.0.113.7, 10.0.0.8"]), ip("203.0.113.7"), "two proxies");
        assert_eq!(client(balancer, &[]), balancer, "no header: the proxy itself");
        assert_eq!(client(balancer, &["not an address"]), balancer, "unreadable: not believed");
        assert_eq!(client(balancer, &["10.0.0.8"]), balancer, "only proxies");
        let stranger = ip("192.0.2.50");
        assert_eq!(client(stranger, &["203.0.113.7"]), stranger, "anybody can send the header");
        assert_eq!(client_ip(balancer, ["203.0.113.7"].into_iter(), &[]), balancer, "nothing trusted by default");
    }
}
