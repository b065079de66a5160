//! The WebSocket context following the session: starting, refreshing and stopping the connection, and, when
//! the browser's tabs share it, joining them and doing what the tab rules ask.

use super::*;
use crate::realtime::tabs_driver::TabsHost;

/// Feeds the driver the session's changes: `Start` on sign-in or change of user, `TokenRefreshed` for a new
/// token of the same user, `Stop` on sign-out. Signed in, the tab joins the user's other tabs when it can:
/// the connection then starts only when this tab comes to lead. Signed out, the visitor's poll (if this app
/// has one) brings the public events.
pub(super) fn follow_session(ws: WebSocket, auth: Auth, signals: Signals) {
    Effect::new(move |_| {
        let next = auth.session().with(|s| s.as_ref().map(|s| (s.user.id, s.token.clone(), s.expires_at)));
        if let Some(visitor) = ws.with_shared(|shared| shared.visitor.clone()).flatten() {
            visitor.set_wanted(next.is_none());
        }
        let input = ws
            .with_shared(|shared| {
                let input = session_input(shared.running.borrow().as_ref(), next.as_ref());
                *shared.running.borrow_mut() = next.as_ref().map(|(user, token, _)| (*user, token.clone()));
                input
            })
            .flatten();
        match input {
            Some(Input::Start { token, token_expires_at }) => {
                let user = next.as_ref().map(|(user, _, _)| *user).expect("a start has a session");
                ws.stop_sharing(signals);
                ws.with_shared(|shared| *shared.token.borrow_mut() = token.clone().map(|t| (t, token_expires_at)));
                let host = tabs_host(ws, signals);
                match TabsDriver::new(&format!("izi-live-{}", user.0), host) {
                    Some(tabs) => {
                        ws.with_shared(|shared| {
                            shared.driver.handle(Input::Stop);
                            shared.driver.follow_page_visibility(false);
                            *shared.tabs.borrow_mut() = Some(tabs);
                        });
                        ws.tell_tabs_the_topics();
                    }
                    None => {
                        ws.with_shared(|shared| shared.driver.handle(Input::Start { token, token_expires_at }));
                    }
                }
            }
            Some(Input::TokenRefreshed { token, expires_at }) => {
                ws.with_shared(|shared| {
                    *shared.token.borrow_mut() = Some((token.clone(), expires_at));
                    shared.driver.handle(Input::TokenRefreshed { token, expires_at });
                });
            }
            Some(other) => {
                ws.stop_sharing(signals);
                ws.with_shared(|shared| shared.driver.handle(other));
            }
            None => {}
        }
    });
}

impl WebSocket {
    /// Leaves the tabs' sharing (signing out, or another user): its lock goes, its topics are dropped.
    fn stop_sharing(&self, signals: Signals) {
        let tabs = self.with_shared(|shared| shared.tabs.borrow_mut().take()).flatten();
        if tabs.is_some() {
            signals.sharing.try_set(None);
            self.set_remote_topics(BTreeSet::new());
            self.with_shared(|shared| {
                shared.driver.handle(Input::Stop);
                shared.driver.follow_page_visibility(true);
            });
        }
        drop(tabs);
    }
}

/// What the tab rules ask of this tab's connection and live layer.
fn tabs_host(ws: WebSocket, signals: Signals) -> TabsHost {
    let Signals { status, last_message, sharing } = signals;
    TabsHost {
        connect: Box::new(move |resume_after, topics| {
            ws.with_shared(|shared| {
                let Some((token, expires)) = shared.token.borrow().clone() else { return };
                shared.driver.follow_page_visibility(false);
                shared.driver.handle(Input::Start { token: Some(token), token_expires_at: expires });
                if let Some(seq) = resume_after {
                    shared.driver.handle(Input::ResumeFrom(seq));
                }
            });
            ws.set_remote_topics(topics);
        }),
        subscribe: Box::new(move |topics| ws.set_remote_topics(topics)),
        any_visible: Box::new(move |visible| {
            ws.with_shared(|shared| shared.driver.handle(Input::VisibilityChanged { visible }));
        }),
        disconnect: Box::new(move || {
            ws.set_remote_topics(BTreeSet::new());
            ws.with_shared(|shared| shared.driver.handle(Input::Stop));
        }),
        deliver: Box::new(move |msg| {
            last_message.try_set(Some(msg.clone()));
            ws.dispatch(&msg);
        }),
        resync: Box::new(move || ws.dispatch_resync()),
        leader_connected: Box::new(move |connected| {
            status.try_set(follower_status(connected));
        }),
        sharing: Box::new(move |leads, tabs| {
            sharing.try_set(Some((leads, tabs)));
        }),
    }
}

/// The signals the session follower and the tab host write.
#[derive(Clone, Copy)]
pub(super) struct Signals {
    pub(super) status: RwSignal<Status>,
    pub(super) last_message: RwSignal<Option<ServerMsg>>,
    pub(super) sharing: RwSignal<Option<(bool, usize)>>,
}

/// A following tab's status: events flow when the leader's connection carries them.
fn follower_status(connected: bool) -> Status {
    Status { state: if connected { StateKind::Open } else { StateKind::Connecting }, ..idle_status() }
}

/// What a change of session means for the machine; `running` is the user and token it runs with.
pub fn session_input(running: Option<&(UserId, String)>, next: Option<&(UserId, String, i64)>) -> Option<Input> {
    let expires = |secs: i64| Some(Millis(u64::try_from(secs).unwrap_or(0).saturating_mul(1000)));
    match (running, next) {
        (None, None) => None,
        (Some(_), None) => Some(Input::Stop),
        (Some((user, token)), Some((next_user, next_token, _))) if user == next_user && token == next_token => None,
        (Some((user, _)), Some((next_user, token, expires_at))) if user == next_user => {
            Some(Input::TokenRefreshed { token: token.clone(), expires_at: expires(*expires_at) })
        }
        (_, Some((_, token, expires_at))) => {
            Some(Input::Start { token: Some(token.clone()), token_expires_at: expires(*expires_at) })
        }
    }
}
